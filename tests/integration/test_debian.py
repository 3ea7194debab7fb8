"""The Debian package: deploy/debian/build-deb.sh builds it from the tested
binary, dpkg installs it on this machine, the installed binary checks the
installed configuration and then runs, as the package's `chgate` user with its
state in /var/lib/chgate, against the test ClickHouse; dpkg --purge removes
every trace. Needs root (dpkg), so it is skipped without."""

import gzip
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

from harness import CHGATE_BIN, SANITIZED, IntegrationTest, wait_until

SOURCE = os.environ.get("CHGATE_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
INSTALLED = ["/usr/bin/chgate", "/etc/chgate/chgate.yaml", "/lib/systemd/system/chgate.service",
             "/usr/share/man/man1/chgate.1.gz", "/usr/share/doc/chgate/README.md"]


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)


def installed():
    return run("dpkg-query", "-W", "-f=${Status}", "chgate").stdout == "install ok installed"


class DebianPackageTest(IntegrationTest):
    SCHEMA = {}

    def setUp(self):
        if os.geteuid() != 0 or not shutil.which("dpkg-deb"):
            self.skipTest("installing a package needs root and dpkg")
        if SANITIZED:
            self.skipTest("the package is built from the plain binary, not a sanitized one")
        if installed() or os.path.exists("/usr/bin/chgate"):
            self.skipTest("chgate is installed on this machine already: not touching it")
        super().setUp()

    def purge(self):
        run("dpkg", "--purge", "chgate")

    def test_build_install_run_and_purge(self):
        out = tempfile.mkdtemp(prefix="chgate-it-deb-")
        self.addCleanup(shutil.rmtree, out, True)
        built = run(os.path.join(SOURCE, "deploy", "debian", "build-deb.sh"), CHGATE_BIN, out)
        self.assertEqual(built.returncode, 0, built.stderr)
        deb = built.stdout.strip()
        self.assertTrue(deb.endswith(".deb") and os.path.exists(deb), built.stdout)
        info = run("dpkg-deb", "-I", deb).stdout
        self.assertIn("Package: chgate", info)
        self.assertRegex(info, r"Depends: .*libcurl4.*libyaml-cpp")

        self.addCleanup(self.purge)
        done = run("dpkg", "-i", deb)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertTrue(installed())
        for path in INSTALLED:
            self.assertTrue(os.path.exists(path), path)
        user = pwd.getpwnam("chgate")
        self.assertEqual(user.pw_dir, "/var/lib/chgate")
        self.assertIn(user.pw_shell, ("/usr/sbin/nologin", "/bin/false"))
        state = os.stat("/var/lib/chgate")
        self.assertEqual((state.st_uid, oct(state.st_mode & 0o777)), (user.pw_uid, "0o750"))
        with gzip.open("/usr/share/man/man1/chgate.1.gz", "rt") as f:
            man = f.read()
        self.assertIn(".TH CHGATE 1", man)
        self.assertIn("chgate status", man)  # from --help, so it says what the binary does
        with open("/lib/systemd/system/chgate.service") as f:
            unit = f.read()
        for line in ("User=chgate", "ExecStart=/usr/bin/chgate --config /etc/chgate/chgate.yaml",
                     "ProtectSystem=strict", "ReadWritePaths=/var/lib/chgate",
                     "NoNewPrivileges=yes", "CapabilityBoundingSet="):
            self.assertIn(line + "\n", unit)
        if shutil.which("systemd-analyze"):
            verify = run("systemd-analyze", "verify", "/lib/systemd/system/chgate.service")
            self.assertNotIn("chgate.service:", verify.stderr, verify.stderr)

        done = run("/usr/bin/chgate", "--check-config", "/etc/chgate/chgate.yaml")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("/var/lib/chgate", done.stdout)
        self.assertIn("/etc/chgate/chgate.yaml: OK", done.stderr)

        # The installed binary, as the service runs it: user chgate, its
        # configuration, its state directory; the example tables of that
        # configuration in a database of this test.
        subprocess.run([os.path.join(SOURCE, "deploy", "apply-sql.sh"), self.ch.url,
                        os.path.join(SOURCE, "deploy", "sql", "chgate.sql"), self.db],
                       check=True, capture_output=True, timeout=60)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CLICKHOUSE_URL": self.ch.url,
               "CLICKHOUSE_DATABASE": self.db, "CHGATE_LISTEN": "127.0.0.1:0",
               "CHGATE_STORAGE_DIR": "/var/lib/chgate"}
        # setpriv execs chgate itself (runuser would stay as its parent and
        # turn SIGTERM into an exit status of its own).
        proc = subprocess.Popen(["setpriv", "--reuid=chgate", "--regid=chgate", "--init-groups",
                                 "/usr/bin/chgate", "--config",
                                 "/etc/chgate/chgate.yaml"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        wait_until(lambda: any("ready: replayed" in l for l in lines) or proc.poll() is not None,
                   20, message="the installed chgate to start")
        log = "".join(lines)
        port = re.search(r"listening on [0-9.]+:(\d+)", log)
        self.assertIsNotNone(port, log)
        event = ('{"event_id":"deb-1","user_id":1,"session_id":"s","event_type":"page_view",'
                 '"event_timestamp":"2026-11-21T10:30:15Z"}')
        posted = run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary",
                     event, f"http://127.0.0.1:{port.group(1)}/v1/events/events")
        self.assertEqual(posted.stdout, "202")
        self.wait_for_count("events", 1, timeout=15)
        # Its write-ahead log is in the state directory, owned by the user.
        owned = [os.stat(os.path.join(d, f)).st_uid
                 for d, _, files in os.walk("/var/lib/chgate") for f in files]
        self.assertTrue(owned, "nothing written to /var/lib/chgate")
        self.assertEqual(set(owned), {user.pw_uid})
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(60), 0, "".join(lines))

        done = run("dpkg", "--purge", "chgate")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertFalse(installed())
        for path in INSTALLED + ["/var/lib/chgate", "/etc/chgate"]:
            self.assertFalse(os.path.exists(path), f"{path} is left after purge")
        self.assertEqual(run("getent", "passwd", "chgate").returncode, 2, "the user is left")


if __name__ == "__main__":
    unittest.main()
