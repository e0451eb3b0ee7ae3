"""Run the benchmark suite and compare this package with its peers.

    python benchmarks/compare.py            # full run: table, latest.md, chart.png
    python benchmarks/compare.py --runs 3   # 3 runs; ratios are medians of per-run ratios
    python benchmarks/compare.py --fast     # few rounds, for a quick look
    python benchmarks/compare.py --from-json benchmarks/results/run-1.json   # re-render only
    python benchmarks/compare.py --smoke --out /tmp/x   # CI: one round each, numbers meaningless

Every ratio compares timings from the same run (the same process, machine
state and pinned CPU).  A speedup is ``peer time / our time``: above 1 we are
faster.  Implementations that are not installed (or the C backend when it is
not built) appear as "n/a" and are listed under the tables.

The timer is ``time.process_time`` (CPU time of the benchmark process) unless
``--timer perf_counter`` is given: on a shared machine, time spent descheduled
while another process runs then does not count against whoever was running.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from typing import Any, Dict, List, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import targets as _targets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")

OURS = ("python", "c")
PEERS = ("botocore", "amazon_transcribe", "smithy")
# (op, title, the peer the chart measures against); the first three are charted.
SECTIONS = (
    ("decode", "Decode (one message per call; headers and payload read once)", "botocore"),
    ("encode", "Encode from a header dict and a payload, the dict built per message",
     "amazon_transcribe"),
    ("stream", "Incremental decode (a fresh decoder fed fixed-size chunks)", "botocore"),
    ("decode-keep", "Decode, each result kept until the next decode returns", "botocore"),
    ("decode-zerocopy", "Decode with copy=False (payload: a view of the input)", "botocore"),
    ("decode-zerocopy-keep", "Decode with copy=False, each result kept", "botocore"),
    ("encode-message", "Secondary: encode a prebuilt Message (ours only; peers from a dict)",
     "amazon_transcribe"),
)  # fmt: skip
CHARTED = 3
WORKLOAD_LABEL = {
    "stream-4k": "stream (10,000 msgs, 4 KiB chunks)",
    "stream-100b": "stream (1,000 msgs, 100-byte chunks)",
    "stream-7b": "stream (100 msgs, 7-byte chunks)",
    "unique-headers": "unique-headers (10,000 msgs)",
    "signed": "signed (a frame around audio)",
}
CRC_IMPLS = ("python", "c", "zlib", "isal", "zlib-ng", "awscrt")
CRC_SIZES = ("64B", "4KiB", "1MiB", "16MiB")

# Issue 10's targets, (label, op, workload, peer, python target, c target), from
# targets.py (which also counts instructions and measures the floors); the
# 2-thread rows are only there.  A target of None is not checked.
TARGETS = tuple(
    (label, op, w, peer, py, c) for label, op, w, peer, c, py in _targets.TARGETS
    if c is not None or py is not None
)  # fmt: skip

Key = Tuple[str, str, str]  # (op, workload, impl)
TIMES = "\u00d7"  # the multiplication sign


# ---------------------------------------------------------------- running


def run_suite(json_path: str, mode: str, timer: str, extra: Sequence[str]) -> None:
    # Run from benchmarks/ so that ``python -m`` does not put the source tree
    # first on sys.path: the installed package (with its compiled backend) is tested.
    cmd = [
        sys.executable, "-m", "pytest", ".", "-q", "-p", "no:cacheprovider",
        f"--benchmark-json={os.path.abspath(json_path)}", f"--benchmark-timer=time.{timer}",
        "--benchmark-columns=median,iqr,rounds", "--benchmark-sort=name",
    ]  # fmt: skip
    if mode != "smoke":
        # process_time() costs ~0.7 us a call here: rounds of at least 0.5 ms keep it
        # below 0.2% of a round, where a one-iteration round of a 10 us peer would
        # carry 7% and skew every ratio.
        cmd += ["--benchmark-min-time=0.0005"]
    if mode == "fast":
        cmd += ["--benchmark-max-time=0.2", "--benchmark-min-rounds=3", "--benchmark-warmup=on"]
    elif mode == "smoke":
        cmd += ["--benchmark-max-time=0", "--benchmark-min-rounds=1", "--benchmark-warmup=off"]
    else:
        cmd += ["--benchmark-max-time=0.5", "--benchmark-min-rounds=5", "--benchmark-warmup=on",
                "--benchmark-warmup-iterations=200"]  # fmt: skip
    cmd += list(extra)
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=HERE)
    if proc.returncode != 0:
        sys.exit(f"benchmark run failed (pytest exit code {proc.returncode})")


def load(path: str) -> Tuple[Dict[Key, Dict[str, Any]], Dict[str, Any]]:
    with open(path) as f:
        doc = json.load(f)
    rows: Dict[Key, Dict[str, Any]] = {}
    machine = dict(doc.get("machine_info", {}))
    if doc["benchmarks"]:
        machine["timer"] = doc["benchmarks"][0].get("options", {}).get("timer", "?")
    for bench in doc["benchmarks"]:
        x = bench["extra_info"]
        rows[(x["op"], x["workload"], x["impl"])] = {
            "median": bench["stats"]["median"],
            "bytes": x["bytes"],
            "messages": x["messages"],
        }
    return rows, machine


# ---------------------------------------------------------------- combining runs


class Results:
    """Timings of one or more runs; ratios are medians of same-run ratios."""

    def __init__(self, runs: List[Dict[Key, Dict[str, Any]]]) -> None:
        self.runs = runs

    def has(self, key: Key) -> bool:
        return any(key in run for run in self.runs)

    def seconds(self, key: Key) -> float | None:
        values = [run[key]["median"] for run in self.runs if key in run]
        return statistics.median(values) if values else None

    def per_message(self, key: Key) -> float | None:
        s = self.seconds(key)
        if s is None:
            return None
        return s / next(run[key]["messages"] for run in self.runs if key in run)

    def rate(self, key: Key) -> float | None:
        """Bytes per second."""
        s = self.seconds(key)
        if s is None:
            return None
        return next(run[key]["bytes"] for run in self.runs if key in run) / s

    def speedup(self, ours: Key, peer: Key) -> float | None:
        """``peer time / our time``, the median over runs that have both."""
        ratios = [run[peer]["median"] / run[ours]["median"]
                  for run in self.runs if ours in run and peer in run]  # fmt: skip
        return statistics.median(ratios) if ratios else None

    def rate_ratio(self, ours: Key, other: Key) -> float | None:
        """``our bytes/s / other bytes/s`` over runs that have both."""
        ratios = []
        for run in self.runs:
            if ours in run and other in run:
                a, b = run[ours], run[other]
                ratios.append((a["bytes"] / a["median"]) / (b["bytes"] / b["median"]))
        return statistics.median(ratios) if ratios else None


# ---------------------------------------------------------------- formatting


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.2f} ms"


def fmt_x(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1f}{TIMES}" if x >= 10 else f"{x:.2f}{TIMES}"


def workloads_of(res: Results, op: str) -> List[str]:
    order = ["transcript", "audio", "many-headers", "signed", "unique-headers", "1mib", "16mib",
             "stream-4k", "stream-100b", "stream-7b"]  # fmt: skip
    return [w for w in order if any(res.has((op, w, i)) for i in OURS + PEERS)]


def impl_op(op: str, impl: str) -> str:
    """The operation a row of ``op`` times for ``impl``: peers have no zero-copy
    decode and no prebuilt message, so they appear with their plain operation."""
    return op if impl in OURS else _targets.peer_op(op)


def section_table(res: Results, op: str) -> List[str]:
    names = workloads_of(res, op)
    impls = [i for i in OURS + PEERS if any(res.has((impl_op(op, i), w, i)) for w in names)]
    peers = [i for i in impls if i in PEERS]
    head = ["workload", *[f"{i} (per msg)" for i in impls]]
    head += [f"{o} vs {p}" for p in peers for o in OURS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in workloads_of(res, op):
        cells = [WORKLOAD_LABEL.get(w, w)]
        cells += [fmt_time(res.per_message((impl_op(op, i), w, i))) for i in impls]
        for p in peers:
            for o in OURS:
                cells.append(fmt_x(res.speedup((op, w, o), (impl_op(op, p), w, p))))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_rows(res: Results) -> List[Tuple[str, str, float | None, float, bool]]:
    """``(target label, backend, measured, required, met)`` for every target."""
    rows = []
    for label, op, w, peer, py_target, c_target in TARGETS:
        for backend, need in (("python", py_target), ("c", c_target)):
            if need is None:
                continue
            got = res.speedup((op, w, backend), (_targets.peer_op(op), w, peer))
            rows.append((f"{label} vs {peer}", backend, got, need, got is not None and got >= need))
    got = res.rate_ratio(("decode", "16mib", "c"), ("crc32", "16MiB", "isal"))
    rows.append(("16 MiB decode rate vs isal CRC32 rate", "c", got, 0.5,
                 got is not None and got >= 0.5))  # fmt: skip
    return rows


def targets_table(res: Results) -> List[str]:
    lines = ["| target | backend | required | measured | met |", "|---|---|---|---|---|"]
    for label, backend, got, need, met in target_rows(res):
        verdict = "n/a" if got is None else ("yes" if met else "**no**")
        lines.append(f"| {label} | {backend} | ≥ {need:g}{TIMES} | {fmt_x(got)} | {verdict} |")
    return lines


def crc_table(res: Results) -> List[str]:
    impls = [i for i in CRC_IMPLS if any(res.has(("crc32", s, i)) for s in CRC_SIZES)]
    lines = ["| size | " + " | ".join(impls) + " |", "|" + "---|" * (len(impls) + 1)]
    for s in CRC_SIZES:
        cells = []
        for i in impls:
            r = res.rate(("crc32", s, i))
            cells.append("n/a" if r is None else f"{r / 1e9:.2f}")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return lines


def report(res: Results, machine: Dict[str, Any], missing: List[str]) -> str:
    cpu = machine.get("cpu", {}).get("brand_raw", "")
    out = [
        "# Benchmark results",
        "",
        f"{datetime.date.today().isoformat()}; Python {machine.get('python_version', '?')} "
        f"({machine.get('python_implementation', '?')}); {cpu}"
        f"; {len(res.runs)} run(s), one pinned CPU, timer {machine.get('timer', '?')}. "
        "Times are per message (medians of the rounds); "
        "\"A vs B\" is B's time / A's time from the same run (above 1: A is faster).",
        "",
        "## Targets",
        "",
        *targets_table(res),
    ]
    for op, title, _ in SECTIONS:
        if workloads_of(res, op):
            out += ["", f"## {title}", "", *section_table(res, op)]
    out += ["", "## CRC32 (GB/s, 10^9 bytes/s)", "", *crc_table(res)]
    if missing:
        out += ["", "Not measured: " + "; ".join(missing) + "."]
    return "\n".join(out) + "\n"


def missing_impls(res: Results) -> List[str]:
    found = {k[2] for run in res.runs for k in run}
    reasons: Dict[str, str] = {}
    try:
        import impls

        reasons = {name: impl.reason or "" for name, impl in impls.all_impls().items()}
    except Exception:  # the table must render even where the adapters cannot load
        pass
    return [f"{i} ({reasons.get(i) or ('not built' if i == 'c' else 'not installed')})"
            for i in OURS + PEERS if i not in found]  # fmt: skip


# ---------------------------------------------------------------- chart


COLORS = {
    "python": "#1f77b4",
    "c": "#d62728",
    "botocore": "#7f7f7f",
    "amazon_transcribe": "#bcbd22",
    "smithy": "#9467bd",
    "zlib": "#8c564b",
    "isal": "#2ca02c",
    "zlib-ng": "#17becf",
    "awscrt": "#ff7f0e",
}


def _speed_axis(ax: Any, base: str, lo: float, hi: float) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 50, 100) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{TIMES}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xlabel(f"speed relative to {base} (higher is better)")


def chart(res: Results, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(op, title, base) for op, title, base in SECTIONS[:CHARTED] if workloads_of(res, op)]
    fig, grid = plt.subplots(2, 2, figsize=(17, 11.5))
    axes = list(grid.flat)
    targets = {(op, w): (py or 0.0, c or 0.0) for _, op, w, _, py, c in TARGETS}
    legend: Dict[str, Any] = {}
    for ax, (op, title, base) in zip(axes, panels):
        names = workloads_of(res, op)
        impls = [i for i in OURS + PEERS if any(res.has((op, w, i)) for w in names)]
        bar = 0.84 / len(impls)
        values = []
        for j, impl in enumerate(impls):
            for k, w in enumerate(names):
                if not res.has((op, w, base)):
                    continue
                x = 1.0 if impl == base else res.speedup((op, w, impl), (op, w, base))
                if x is None:
                    continue
                values.append(x)
                y = k + (j - (len(impls) - 1) / 2) * bar
                ax.barh(y, x, height=bar * 0.9, color=COLORS[impl], label=impl)
                t = targets.get((op, w))
                text_at = x
                if t and impl in OURS and t[OURS.index(impl)]:
                    need = t[OURS.index(impl)]
                    ax.plot([need, need], [y - bar * 0.6, y + bar * 0.6], color="black", lw=2.5,
                            label="target", solid_capstyle="butt")  # fmt: skip
                    text_at = max(x, need)
                    values.append(need)
                ax.text(text_at * 1.06, y, fmt_x(x), va="center", fontsize=7.5)
        ax.set_yticks(range(len(names)), [WORKLOAD_LABEL.get(w, w) for w in names], fontsize=9)
        ax.invert_yaxis()
        _speed_axis(ax, base, min([0.2, *values]) * 0.8, max([2.0, *values]) * 2.2)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        ax.grid(axis="x", alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        legend.update(zip(labels, handles))

    order = [n for n in (*OURS, *PEERS, "target") if n in legend]
    fig.legend([legend[n] for n in order], order, loc="upper center", ncol=len(order),
               bbox_to_anchor=(0.5, 0.955), fontsize=10, frameon=False)  # fmt: skip

    ax = axes[3]
    impls = [i for i in CRC_IMPLS if any(res.has(("crc32", s, i)) for s in CRC_SIZES)]
    bar = 0.84 / max(len(impls), 1)
    for j, impl in enumerate(impls):
        for k, s in enumerate(CRC_SIZES):
            r = res.rate(("crc32", s, impl))
            if r is None:
                continue
            y = k + (j - (len(impls) - 1) / 2) * bar
            label = f"eventstream {impl}" if impl in OURS else impl
            ax.barh(y, r / 1e9, height=bar * 0.9, color=COLORS.get(impl, "#444"), label=label)
            ax.text(r / 1e9 * 1.05, y, f"{r / 1e9:.1f}", va="center", fontsize=7.5)
    ax.set_yticks(range(len(CRC_SIZES)), CRC_SIZES, fontsize=9)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("GB/s (10^9 bytes/s, higher is better)")
    ax.set_title("CRC32 throughput", loc="left", fontsize=11, fontweight="bold")
    ax.grid(axis="x", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), loc="upper right", fontsize=8, framealpha=0.9)
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 2)
    for ax in axes[len(panels) : 3]:
        ax.axis("off")
    fig.suptitle(
        "eventstream vs peers: same run, one pinned CPU (black tick = target)",
        fontsize=13, fontweight="bold",
    )  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.935))
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=1, help="number of suite runs (default 1)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="few rounds per benchmark")
    mode.add_argument("--smoke", action="store_true", help="one round each (CI; no real numbers)")
    ap.add_argument("--timer", choices=("process_time", "perf_counter"), default="process_time")
    ap.add_argument("--from-json", nargs="+", metavar="FILE", help="render existing JSON only")
    ap.add_argument("--out", default=RESULTS, help="directory for JSON, latest.md, chart.png")
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = ap.parse_args(argv)
    run_mode = "smoke" if args.smoke else "fast" if args.fast else "full"

    os.makedirs(args.out, exist_ok=True)
    paths = args.from_json or []
    if not paths:
        for n in range(1, args.runs + 1):
            path = os.path.join(args.out, f"run-{n}.json")
            run_suite(path, run_mode, args.timer, args.pytest_args)
            paths.append(path)
    loaded = [load(p) for p in paths]
    res = Results([rows for rows, _ in loaded])
    text = report(res, loaded[0][1], missing_impls(res))
    print()
    print(text)
    with open(os.path.join(args.out, "latest.md"), "w", encoding="utf-8") as f:
        f.write(text)
    if not args.no_chart:
        png = os.path.join(args.out, "chart.png")
        try:
            chart(res, png)
        except ImportError as exc:
            print(f"chart not written: {exc} (pip install matplotlib)")
        else:
            print(f"wrote {os.path.join(args.out, 'latest.md')} and {png}")
    print(f"platform: {platform.platform()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
