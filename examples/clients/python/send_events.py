#!/usr/bin/env python3
"""Sends events to chgate with Python's requests (Debian: python3-requests).

    send_events.py URL TABLE [--token TOKEN] [--count N]

posts N events to URL/v1/events/TABLE three ways: one JSON object per request,
a JSON array, and gzip-compressed NDJSON. A 429 or 503 is tried again after
the Retry-After the answer gives; any other refusal stops with its error.
Prints one line of JSON: {"sent": N, "requests": R, "retried": K}.
"""

import argparse
import gzip
import json
import sys
import time

import requests


class Sender:
    def __init__(self, url, table, token=None, max_attempts=20):
        self.endpoint = f"{url.rstrip('/')}/v1/events/{table}"
        self.session = requests.Session()  # keep-alive: one connection for every request
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.max_attempts = max_attempts
        self.requests = 0
        self.retried = 0

    def post(self, body, headers):
        for attempt in range(1, self.max_attempts + 1):
            r = self.session.post(self.endpoint, data=body, headers=headers, timeout=30)
            self.requests += 1
            if r.status_code in (429, 503) and attempt < self.max_attempts:
                # chgate always says when to come back; wait at least that.
                self.retried += 1
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            if r.status_code not in (200, 202):
                raise RuntimeError(f"{r.status_code}: {r.text}")
            return r.json()
        raise RuntimeError(f"still refused after {self.max_attempts} attempts")

    def send_object(self, event):
        return self.post(json.dumps(event), {"Content-Type": "application/json"})

    def send_array(self, events):
        return self.post(json.dumps(events), {"Content-Type": "application/json"})

    def send_gzip_ndjson(self, events):
        ndjson = "".join(json.dumps(e) + "\n" for e in events).encode()
        return self.post(gzip.compress(ndjson), {"Content-Type": "application/x-ndjson",
                                                 "Content-Encoding": "gzip"})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("table")
    p.add_argument("--token")
    p.add_argument("--count", type=int, default=30)
    p.add_argument("--source", default="python-requests", help="the events' `source` field")
    args = p.parse_args()
    sender = Sender(args.url, args.table, args.token)
    events = [{"id": i, "source": args.source, "shape": ""} for i in range(args.count)]
    third = max(1, args.count // 3)
    for e in events[:third]:
        e["shape"] = "object"
        sender.send_object(e)
    for e in events[third:2 * third]:
        e["shape"] = "array"
    if events[third:2 * third]:
        sender.send_array(events[third:2 * third])
    for e in events[2 * third:]:
        e["shape"] = "ndjson-gzip"
    if events[2 * third:]:
        sender.send_gzip_ndjson(events[2 * third:])
    print(json.dumps({"sent": args.count, "requests": sender.requests, "retried": sender.retried}))


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, requests.RequestException) as e:
        print(f"send_events: {e}", file=sys.stderr)
        sys.exit(1)
