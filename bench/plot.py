#!/usr/bin/env python3
"""Plots bench/e2e.py's samples: committed events per second and RSS over time, as PNG.

usage: bench/plot.py BENCH_E2E_CSV OUT_DIR
Needs matplotlib (build/bench-venv/bin/pip install matplotlib==3.9.2); run it with
build/bench-venv/bin/python.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    path, out = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    seconds = [r["seconds"] for r in rows]
    # Throughput between two samples: committed events over the time between them.
    rate = [0.0] + [(b["committed_events"] - a["committed_events"]) / (b["seconds"] - a["seconds"])
                    for a, b in zip(rows, rows[1:])]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(seconds, rate, color="tab:blue")
    ax.set_xlabel("seconds since storyd started")
    ax.set_ylabel("events committed per second")
    ax.set_title("storyd end to end: Kafka -> PostgreSQL committed")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "e2e-throughput.png"), dpi=110)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(seconds, [r["rss_bytes"] / 2**20 for r in rows], color="tab:red", label="RSS (MiB)")
    ax.set_xlabel("seconds since storyd started")
    ax.set_ylabel("resident memory, MiB")
    twin = ax.twinx()
    twin.plot(seconds, [r["dedup_stories"] for r in rows], color="tab:gray", linestyle="--",
              label="stories indexed")
    twin.set_ylabel("stories indexed")
    ax.set_title("storyd memory against the stories it indexes")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "e2e-rss.png"), dpi=110)
    print("wrote %s and %s" % (os.path.join(out, "e2e-throughput.png"),
                               os.path.join(out, "e2e-rss.png")))


if __name__ == "__main__":
    main()
