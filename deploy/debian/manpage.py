#!/usr/bin/env python3
"""Writes chgate(1) in roff from `chgate --help`, so the man page says what
the binary says.

    manpage.py CHGATE_BINARY > chgate.1
"""

import datetime
import re
import subprocess
import sys


def roff_escape(line):
    line = line.replace("\\", "\\e")
    # A line starting with . or ' would be a roff request.
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line.replace("-", "\\-")


def main():
    binary = sys.argv[1]
    help_text = subprocess.run([binary, "--help"], check=True, capture_output=True,
                               text=True).stdout
    version = subprocess.run([binary, "--version"], check=True, capture_output=True,
                             text=True).stdout.split()[-1]
    lines = help_text.rstrip("\n").split("\n")
    # "Usage: chgate ..." and its continuation lines form the synopsis.
    synopsis = []
    while lines and (lines[0].startswith("Usage:") or lines[0].startswith("       chgate")):
        synopsis.append(re.sub(r"^(Usage:| +)", "", lines.pop(0)).strip())
    while lines and not lines[0].strip():
        lines.pop(0)
    # The first paragraph describes; each "Heading:" line starts a section.
    description = []
    while lines and lines[0].strip():
        description.append(lines.pop(0))
    sections = []
    for line in lines:
        m = re.fullmatch(r"([A-Z][A-Za-z ]+):(.*)", line)
        if m and not line.startswith(" "):
            sections.append((m.group(1).upper(), [m.group(2).strip()] if m.group(2).strip()
                             else []))
        elif sections:
            sections[-1][1].append(line)
    date = datetime.date.today().isoformat()
    out = [f'.TH CHGATE 1 "{date}" "chgate {version}" "User Commands"',
           ".SH NAME",
           "chgate \\- HTTP ingestion gateway for ClickHouse",
           ".SH SYNOPSIS", ".nf"]
    out += [roff_escape(s) for s in synopsis]
    out += [".fi", ".SH DESCRIPTION"]
    out += [roff_escape(" ".join(l.strip() for l in description))]
    for title, body in sections:
        while body and not body[-1].strip():
            body.pop()
        out += [f".SH {title}", ".nf"] + [roff_escape(l) for l in body] + [".fi"]
    out += [".SH FILES", ".nf",
            "/etc/chgate/chgate.yaml      the configuration",
            "/etc/chgate/chgate.env       environment for the service (tokens, passwords)",
            "/var/lib/chgate              write\\-ahead logs, spool and dead letters",
            ".fi",
            ".SH SEE ALSO",
            "/usr/share/doc/chgate/README.md, systemctl(1), journalctl(1)"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
