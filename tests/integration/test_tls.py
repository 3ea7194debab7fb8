"""HTTPS: chgate serving clients over TLS (and mTLS), certificates reloaded
with SIGHUP, and chgate reaching ClickHouse over HTTPS. Every certificate is
made by the test with openssl."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest

import harness
from harness import ClickHouse, IntegrationTest, wait_until

COLUMNS = "id UInt32, note String"
FAST = {"strategy": "hybrid", "max_batch_time": "200ms"}


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Certificates:
    """A CA, and certificates it signs, in a directory of their own."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="chgate-it-tls-")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "2", "-subj", "/CN=chgate test CA", cwd=self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, cn, server=True):
        """name.pem and name.key, signed by the CA."""
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={cn}", cwd=self.dir)
        ext = self.path(f"{name}.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server
                    else "extendedKeyUsage=clientAuth\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", ext,
                cwd=self.dir)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def curl(*args):
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args],
                          capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout


def peer_cn(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject["commonName"]


class TlsTest(IntegrationTest):
    SCHEMA = {"events": COLUMNS}

    def setUp(self):
        super().setUp()
        self.certs = Certificates()
        self.addCleanup(self.certs.remove)
        self.cert, self.key = self.certs.issue("server", "chgate-a")

    def tls(self, **more):
        return {"cert_file": self.cert, "key_file": self.key, **more}

    def test_https_for_clients(self):
        g = self.start({"events": FAST}, server={"tls": self.tls()})
        self.assertIn("HTTPS", g.log())
        url = f"https://127.0.0.1:{g.port}/v1/events/events"
        rc, status = curl("--cacert", self.certs.path("ca.pem"), "--data-binary",
                          json.dumps([{"id": 1, "note": "curl"}]), url)
        self.assertEqual((rc, status), (0, "202"))
        # Python's requests, checking the certificate against the test's CA.
        script = ("import sys, requests\n"
                  "r = requests.post(sys.argv[1], data=b'{\"id\":2,\"note\":\"requests\"}', "
                  "verify=sys.argv[2], timeout=10)\nprint(r.status_code)\n")
        done = subprocess.run(["/usr/bin/python3", "-c", script, url, self.certs.path("ca.pem")],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.stdout.strip(), "202", done.stderr)
        self.wait_for_count("events", 2)
        # Plain HTTP to the HTTPS port gets nothing; a client that does not
        # know the CA refuses chgate.
        self.assertNotEqual(curl(f"http://127.0.0.1:{g.port}/healthz")[1], "200")
        self.assertNotEqual(curl(f"https://127.0.0.1:{g.port}/healthz")[0], 0)
        self.assertIsNone(g.proc.poll())

    def test_requests_already_read_by_tls_are_answered(self):
        # Two requests as two TLS records in one TCP write: reading the first
        # pulls the second into TLS's buffers, and the socket then stays quiet.
        # chgate must answer it anyway, not wait for bytes that never come.
        g = self.start({"events": FAST}, server={"tls": self.tls()})
        ctx = ssl.create_default_context(cafile=self.certs.path("ca.pem"))
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as raw:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    raw.sendall(outgoing.read())
                    incoming.write(raw.recv(65536))
            raw.sendall(outgoing.read())
            body = b'{"id":3,"note":"pipelined"}'
            request = (b"POST /v1/events/events HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       str(len(body)).encode() + b"\r\n\r\n" + body)
            tls.write(request)
            tls.write(request)
            raw.sendall(outgoing.read())  # both records, one write
            answers = b""
            while answers.count(b"HTTP/1.1 202") < 2:
                try:
                    answers += tls.read(65536)
                except ssl.SSLWantReadError:
                    data = raw.recv(65536)  # times out (10 s) if chgate waits
                    self.assertTrue(data, answers)
                    incoming.write(data)
        self.wait_for_count("events", 2)

    def test_client_certificates_when_client_ca_file_is_set(self):
        client_cert, client_key = self.certs.issue("client", "app-1", server=False)
        g = self.start({"events": FAST},
                       server={"tls": self.tls(client_ca_file=self.certs.path("ca.pem"))})
        url = f"https://127.0.0.1:{g.port}/v1/events/events"
        body = json.dumps({"id": 1, "note": "mtls"})
        rc, _ = curl("--cacert", self.certs.path("ca.pem"), "--data-binary", body, url)
        self.assertNotEqual(rc, 0)  # no client certificate: the handshake fails
        other = Certificates()
        self.addCleanup(other.remove)
        stranger_cert, stranger_key = other.issue("client", "stranger", server=False)
        rc, _ = curl("--cacert", self.certs.path("ca.pem"), "--cert", stranger_cert, "--key",
                     stranger_key, "--data-binary", body, url)
        self.assertNotEqual(rc, 0)  # signed by another CA
        self.assertEqual(curl("--cacert", self.certs.path("ca.pem"), "--cert", client_cert,
                              "--key", client_key, "--data-binary", body, url), (0, "202"))
        self.wait_for_count("events", 1)

    def test_certificates_are_reloaded_with_sighup(self):
        g = self.start({"events": FAST}, server={"tls": self.tls()})
        self.assertEqual(peer_cn(g.port, self.certs.path("ca.pem")), "chgate-a")
        new_cert, new_key = self.certs.issue("rotated", "chgate-b")
        shutil.copy(new_cert, self.cert)
        shutil.copy(new_key, self.key)
        g.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: peer_cn(g.port, self.certs.path("ca.pem")) == "chgate-b", 10,
                   message="the new certificate served")
        # A broken file is refused at reload: the old certificate stays.
        with open(self.key, "w") as f:
            f.write("not a key")
        before = g.log().count("reload:")
        g.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: g.log().count("reload:") > before, 10, message="the reload")
        self.assertEqual(peer_cn(g.port, self.certs.path("ca.pem")), "chgate-b")
        self.assertIn("stay in use", g.log())

    def test_clickhouse_over_https(self):
        script = os.path.join(harness.SOURCE_DIR, "deploy", "clickhouse.sh")
        ch_dir = tempfile.mkdtemp(prefix="chgate-it-ch-https-")
        self.addCleanup(shutil.rmtree, ch_dir, True)
        subprocess.run([script, "start", ch_dir, "0", "0", "--https", self.cert, self.key],
                       check=True, capture_output=True)
        self.addCleanup(subprocess.run, [script, "stop", ch_dir], capture_output=True)
        with open(os.path.join(ch_dir, "http_port")) as f:
            ch = ClickHouse(int(f.read()))
        with open(os.path.join(ch_dir, "https_port")) as f:
            https_port = int(f.read())
        ch.query(f"CREATE DATABASE `{self.db}`")
        ch.query(f"CREATE TABLE `{self.db}`.events ({COLUMNS}) ENGINE = MergeTree() ORDER BY id")
        url = f"https://127.0.0.1:{https_port}"
        g = self.start({"events": FAST}, clickhouse={
            "url": url, "tls": {"ca_file": self.certs.path("ca.pem")}})
        self.assertEqual(g.request("GET", "/readyz").status, 200)
        self.assertEqual(g.post_events("events", [{"id": 1, "note": "tls"}]).status, 202)
        wait_until(lambda: ch.count(self.db, "events") == 1, 10, message="the row over HTTPS")
        # A CA that did not sign ClickHouse's certificate: nothing goes.
        other = Certificates()
        self.addCleanup(other.remove)
        g2 = self.start({"events": FAST}, clickhouse={
            "url": url, "tls": {"ca_file": other.path("ca.pem")}})
        r = wait_until(lambda: (lambda r: r if r.status == 503 else None)(
            g2.request("GET", "/readyz")), 10, message="readyz to fail")
        self.assertIn("certificate", r.json()["reason"].lower())


if __name__ == "__main__":
    unittest.main()
