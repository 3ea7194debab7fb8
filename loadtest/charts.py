#!/usr/bin/python3
"""Draws the main benchmark results as SVG charts, from the reports in
loadtest/results/ (the Markdown tables bench.sh writes):

  throughput.svg     chgate's landed events/s against the HTTP ceiling (nginx
                     doing nothing, a bare Beast server) and ClickHouse's own
                     inserts, per scenario, buffered and durable
  durable.svg        durable against buffered, and against durable-echo (the
                     fastest any durable gateway answers here), per connection
                     count, medians of the rounds
  ramp.svg           the adaptive strategy over a ramp of offered load: INSERT
                     time and INSERTs per second as the load grows
  peers.svg          chgate against kittenhouse and clickhouse-bulk, single
                     events, as a share of nginx doing nothing in the same run
                     (the HTTP ceiling), with what each lost when killed -9

    /usr/bin/python3 loadtest/charts.py [OUTDIR]

OUTDIR defaults to docs/charts. Needs Debian's python3-matplotlib. The output
is byte for byte the same on every run (no dates, a fixed hash salt), so
`tests/integration/test_charts.py` can check the committed charts are what
the reports say.
"""
import os
import re
import statistics
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "loadtest", "results")
# Which report each chart reads: change these when a newer full run replaces one.
BENCH = "2026-11-22-bench.md"
DURABLE = "2026-12-02-durable.md"
PEERS = "2026-12-04-peers.md"

BUFFERED, DURABLE_COLOUR, BASE, OTHER = "#1f77b4", "#d62728", "#7f7f7f", "#2ca02c"


def number(text):
    """'123,998' -> 123998.0; '–' or '-' -> None."""
    text = text.strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def tables(path):
    """Every Markdown table of a report: {heading or None: [row dicts]}; the
    rows of a table that follows a heading are filed under that heading, a
    second table under the same heading is appended."""
    out, heading, header = {}, None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                heading, header = line.lstrip("#").strip(), None
                continue
            if not line.startswith("|"):
                header = None
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
                out.setdefault(heading, [])
            elif all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            else:
                out[heading].append(dict(zip(header, cells)))
    return out


def section(all_tables, prefix, path):
    for heading, rows in all_tables.items():
        if heading and heading.startswith(prefix):
            return rows
    raise SystemExit(f"charts.py: no table under a heading '{prefix}…' in {path}")


def save(fig, outdir, name):
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, name), format="svg", metadata={"Date": None})
    plt.close(fig)


def throughput(outdir):
    path = os.path.join(RESULTS, BENCH)
    t = tables(path)
    baselines = section(t, "Baselines", path)
    chgate = section(t, "chgate", path)

    def base(prefix):
        for row in baselines:
            if row["baseline"].startswith(prefix):
                return number(row["requests/s"]), number(row["landed events/s"])
        raise SystemExit(f"charts.py: no baseline '{prefix}' in {path}")

    nginx, _ = base("nginx")
    beast, _ = base("bare Beast")
    _, ch_bulk = base("ClickHouse, 1000-row")
    scenarios, landed = [], {}
    for row in chgate:
        if row["io threads"] != "1":
            continue
        name = row["scenario"]
        if name not in scenarios:
            scenarios.append(name)
        landed[(name, row["ack"])] = number(row["landed events/s"])

    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.38
    xs = range(len(scenarios))
    for i, (ack, colour) in enumerate((("buffered", BUFFERED), ("durable", DURABLE_COLOUR))):
        values = [landed.get((s, ack), 0) / 1000 for s in scenarios]
        bars = ax.bar([x + (i - 0.5) * width for x in xs], values, width, label=f"chgate, {ack}",
                      color=colour)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=2)
    for value, label, style in ((nginx, "nginx doing nothing (1 request = 1 event)", "--"),
                                (beast, "bare Beast server doing nothing", ":"),
                                (ch_bulk, "ClickHouse's own 1000-row INSERTs", "-.")):
        ax.axhline(value / 1000, color=BASE, linestyle=style, linewidth=1, label=label)
    ax.set_xticks(list(xs))
    short = {"ClickHouse-compatible endpoint": "POST /?query=INSERT…", "1000-event NDJSON POSTs":
             "1000-event NDJSON"}
    labels = []
    for s in scenarios:
        m = re.match(r"\((\w)\) (.*?)(, 1 event per POST)?$", s)
        label = short.get(m.group(2), m.group(2)) if m else s
        labels.append(f"({m.group(1)}) {label}" + ("\n1 event per POST" if m and m.group(3) else "")
                      if m else s)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, max(landed.values()) / 1000 * 1.45)
    ax.set_ylabel("landed events/s (thousands)")
    ax.set_title("chgate against the HTTP ceiling and ClickHouse's own inserts\n"
                 f"(one run, 2 cores, {BENCH[:10]}; {BENCH})", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    save(fig, outdir, "throughput.svg")


def durable(outdir):
    path = os.path.join(RESULTS, DURABLE)
    rows = next((r for r in tables(path).values() if r and "mode" in r[0]), None)
    if rows is None:
        raise SystemExit(f"charts.py: no table with a 'mode' column in {path}")
    medians = {}
    for row in rows:
        key = (int(row["connections"]), row["mode"])
        medians.setdefault(key, []).append(number(row["requests/s"]))
    conns = sorted({c for c, _ in medians})
    modes = [("buffered", "chgate, buffered", BUFFERED), ("durable", "chgate, durable", DURABLE_COLOUR),
             ("echo-direct", "durable-echo (fsync, then answer)", BASE)]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.26
    for i, (mode, label, colour) in enumerate(modes):
        values = [statistics.median(medians[(c, mode)]) / 1000 for c in conns]
        bars = ax.bar([x + (i - 1) * width for x in range(len(conns))], values, width, label=label,
                      color=colour)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(range(len(conns)))
    ax.set_xticklabels([f"{c} connections" for c in conns])
    ax.set_ylabel("single-event POSTs answered /s (thousands)")
    ax.set_title("Durable against buffered, and against a durable echo server\n"
                 f"(medians of 3 rounds, one event per POST, {DURABLE})", fontsize=9)
    ax.legend(fontsize=8)
    save(fig, outdir, "durable.svg")


def ramp(outdir):
    path = os.path.join(RESULTS, BENCH)
    rows = section(tables(path), "Adaptive ramp", path)
    offered = [number(r["offered events/s"]) for r in rows]
    insert_ms = [number(r["avg INSERT ms"]) for r in rows]
    per_second = [number(r["INSERTs/s"]) for r in rows]
    batch = [number(r["size trigger at end"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(offered, insert_ms, marker="o", color=DURABLE_COLOUR, label="average INSERT time (ms)")
    ax.axhline(500, color=BASE, linestyle="--", linewidth=1, label="target_latency (500 ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(2, 3000)
    ax.set_xlim(min(offered) / 2, max(offered) * 2)
    ax.set_xlabel("offered events/s")
    ax.set_ylabel("ms")
    other = ax.twinx()
    other.plot(offered, per_second, marker="s", color=BUFFERED, label="INSERTs per second")
    other.set_ylim(0, 4)
    other.set_ylabel("INSERTs per second")
    for x, y, b in zip(offered, insert_ms, batch):
        ax.annotate(f"{b:,.0f} rows", (x, y), textcoords="offset points", xytext=(0, -13),
                    fontsize=7, ha="center")
    lines = ax.get_legend_handles_labels()
    lines2 = other.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
    ax.set_title("The adaptive strategy over a ramp: batch size grows, INSERTs stay about 1/s\n"
                 f"(labels: the size trigger at the end of each step; {BENCH})", fontsize=9)
    save(fig, outdir, "ramp.svg")


def peers(outdir):
    path = os.path.join(RESULTS, PEERS)
    t = tables(path)
    rows = [r for r in section(t, "Single events", path) if not r["system"].startswith("nginx")]
    killed = {r["system"]: r for r in section(t, "Killed", path)}
    fig, ax = plt.subplots(figsize=(10, 4))
    ys = list(range(len(rows)))[::-1]
    colours = [BUFFERED if "buffered" in r["system"] else DURABLE_COLOUR if "durable" in r["system"]
               else OTHER for r in rows]
    bars = ax.barh(ys, [number(r["÷ nginx"]) for r in rows], color=colours, height=0.6)
    for bar, y, r in zip(bars, ys, rows):
        note = f"{number(r['÷ nginx']):.2f}  ({number(r['landed events/s']) / 1000:.0f}k/s"
        if r["rejected"] not in ("0", ""):
            note += f"; {r['rejected'].split('(')[-1].rstrip(')')} refused"
        ax.text(bar.get_width() + 0.01, y, note + ")", va="center", fontsize=7)
        # What a SIGKILL halfway through a run cost, in a column of its own.
        k = killed.get(r["system"])
        if k:
            lost, acked = number(k["lost (at least)"]), number(k["acknowledged"])
            twice = number(k.get("landed twice (at least)", "0")) or 0
            words = ("nothing lost" if not lost else f"lost {lost / acked * 100:.0f}% of what "
                     "it acknowledged")
            if twice:
                words += f",\n{twice / acked * 100:.0f}% landed twice"
            ax.text(1.04, y, words, va="center", fontsize=7, transform=ax.get_yaxis_transform(),
                    color=DURABLE_COLOUR if lost else "black")
    ax.text(1.04, ys[0] + 0.75, "killed -9 halfway, then restarted:", fontsize=7,
            fontweight="bold", transform=ax.get_yaxis_transform())
    ax.set_yticks(ys)
    ax.set_yticklabels([r["system"] for r in rows], fontsize=8)
    ax.set_xlim(0, 1.0)
    ax.set_ylim(-0.6, len(rows) - 0.1)
    ax.set_xlabel("landed events/s ÷ nginx doing nothing in the same round (1.0: the HTTP "
                  "ceiling); medians of the rounds", fontsize=8)
    ax.set_title("Single events against the peers\n"
                 f"(one event per POST, 64 connections, 2 cores; {PEERS})", fontsize=9)
    fig.subplots_adjust(left=0.24, right=0.72)
    fig.savefig(os.path.join(outdir, "peers.svg"), format="svg", metadata={"Date": None})
    plt.close(fig)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "charts")
    os.makedirs(outdir, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "chgate"
    plt.rcParams["font.family"] = "DejaVu Sans"
    throughput(outdir)
    durable(outdir)
    ramp(outdir)
    peers(outdir)
    for name in ("throughput.svg", "durable.svg", "ramp.svg", "peers.svg"):
        print(os.path.join(outdir, name))


if __name__ == "__main__":
    main()
