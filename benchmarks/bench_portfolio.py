"""How fast is the portfolio engine, and how does it compare with plain pandas?

Generates portfolios of 10,000, 100,000 and 1,000,000 activities (seeded, vectorised with
numpy and Polars; see :func:`generate`) and, for each size, times every analysis of
``missionkit.portfolio`` and the report, next to a plain pandas implementation of the same
analyses (the ``pd_*`` twins of pandas_twin.py) run in the same process on the same validated data.
Each twin is checked against the engine ("agree": every figure within a relative
tolerance of 1e-6, every key present in both), so the ratio compares equal work.

Rows: ``build`` (``Portfolio.from_frames``: validation), each analysis on a fresh
portfolio (so each pays for the cached allocation it needs), ``coherence`` (scipy.sparse
components, igraph Leiden and betweenness; no twin), ``report without coherence`` (every
analysis on one portfolio, then the ranked findings reusing the results; its twin is every
pandas twin sharing one allocation) and ``full report``: what the service and the CLI run
(``missionkit.services.portfolio.analyses`` and the findings, coherence included), timed as
one call. Betweenness is exact or sampled as ``coherence`` decides (``"auto"``) unless
``--betweenness-sample`` says otherwise. The last table gives the time ratio per 10x size
next to what n log n growth would give.

    .venv/bin/python benchmarks/bench_portfolio.py                      # about 6 minutes
    .venv/bin/python benchmarks/bench_portfolio.py --sizes 10000 --repeat 5
    .venv/bin/python benchmarks/bench_portfolio.py --sizes 1000000 --repeat 1
    .venv/bin/python benchmarks/bench_portfolio.py --sizes 1000000 --full-only   # ~3 min

Memory is the peak resident set size (RSS) above the RSS at the start of the call,
sampled every 2 ms by a thread (tracemalloc cannot see Polars' allocations, which bypass
Python's allocator). Memory an allocator kept from an earlier call is reused without
showing, so the figures are lower bounds of what a fresh process would need.

Needs pandas (not a runtime dependency of missionkit).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any

from _common import log
from pandas_twin import (
    Flat,
    pd_coverage,
    pd_directionality,
    pd_diversity,
    pd_drift,
    pd_instrument_mix,
    pd_report,
    pd_spatial,
    pd_stage_balance,
)
from portfolio_data import (
    DEFAULT_SEED,
    Network,
    build,
    generate,
    projection_links,
    to_pandas,
)
from portfolio_timing import (
    Timing,
    compare,
    flat_coverage,
    flat_directionality,
    flat_diversity,
    flat_drift,
    flat_instrument_mix,
    flat_spatial,
    flat_stage_balance,
    measure,
)

from missionkit.portfolio import (
    Analyses,
    Coherence,
    Portfolio,
    coherence,
    coverage,
    directionality,
    diversity,
    drift,
    findings,
    instrument_mix,
    spatial_equity,
    stage_balance,
)
from missionkit.services.portfolio import analyses

# --- the benchmark ---------------------------------------------------------------------------

LEVEL = "nuts2"
Analysis = tuple[str, Callable[[Portfolio], Any], Callable[[Any], Flat], Callable[..., Flat]]
ANALYSES: tuple[Analysis, ...] = (
    ("coverage", coverage, flat_coverage, pd_coverage),
    ("directionality", directionality, flat_directionality, pd_directionality),
    ("stage_balance", stage_balance, flat_stage_balance, pd_stage_balance),
    ("instrument_mix", instrument_mix, flat_instrument_mix, pd_instrument_mix),
    ("diversity", diversity, flat_diversity, pd_diversity),
    ("spatial_equity", lambda p: spatial_equity(p, LEVEL), flat_spatial, pd_spatial),
    ("drift", drift, flat_drift, pd_drift),
)


def engine_report(p: Portfolio) -> list[str]:
    """Every analysis but coherence, then the ranked findings reusing the results (the
    network finding is left out: coherence has its own row)."""
    direction = directionality(p)
    done = Analyses(
        coverage=coverage(p),
        directionality=direction,
        stage_balance=stage_balance(p),
        instruments=diversity(p, "instrument"),
        drift=drift(p, "year", direction=direction),
    )
    instrument_mix(p)
    diversity(p)
    spatial = spatial_equity(p, LEVEL)
    target = replace(p, participations=p.participations.clear())
    target.__dict__["allocation"] = p.allocation  # keep the cached allocations
    target.__dict__["numbered_allocation"] = p.numbered_allocation
    target.__dict__["numbered_rollup"] = p.numbered_rollup
    ranked = findings(target, spatial=spatial, analyses=done)
    return [f.text for f in ranked[:10]]


def full_report(p: Portfolio) -> list[str]:
    """What ``portfolio_analysis`` runs once the portfolio is loaded: every analysis once,
    coherence included, then the findings reusing them."""
    done = analyses(p, level=LEVEL)
    ranked = findings(p, spatial=done.spatial, analyses=done.findings_input())
    return [f.text for f in ranked[:10]]


@dataclass
class Row:
    name: str
    engine: Timing
    pandas: Timing | None = None
    agree: str = "-"


@dataclass
class SizeResult:
    n: int
    links: int
    rows: list[Row]
    notes: list[str]

    def row(self, prefix: str) -> Row | None:
        return next((r for r in self.rows if r.name.startswith(prefix)), None)


def fmt_s(t: float) -> str:
    return f"{t:,.3f}" if t < 10 else f"{t:,.1f}"


def print_table(result: SizeResult, repeat: int) -> None:
    head = ("analysis", "engine s", "engine MiB", "pandas s", "pandas MiB", "pandas/engine",
            "check")  # fmt: skip
    lines = []
    for r in result.rows:
        e = r.engine
        runs = "" if len(e.seconds) == repeat or e.note == "sum" else f" ({len(e.seconds)} run)"
        lines.append(
            (r.name + runs, fmt_s(e.median), f"{e.mib:,.0f}",
             fmt_s(r.pandas.median) if r.pandas else "-",
             f"{r.pandas.mib:,.0f}" if r.pandas else "-",
             f"{r.pandas.median / e.median:,.1f}x" if r.pandas else "-", r.agree)
        )  # fmt: skip
    widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, 6) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for x in lines:
        print(line(x))
    for note in result.notes:
        print(f"  {note}")
    print(flush=True)


def run_size(n: int, args: argparse.Namespace, earlier: list[SizeResult]) -> SizeResult:
    repeat = args.repeat or (3 if n <= 100_000 else 1)
    log(f"[{n:,}] generating ...")
    start = time.perf_counter()
    data = generate(n, args.seed, args.network)
    generated = time.perf_counter() - start
    links = projection_links(data)
    n_orgs = data.participations.get_column("organisation").n_unique()
    print(
        f"== {n:,} activities: {data.contributions.height:,} contributions, "
        f"{data.participations.height:,} participations of {n_orgs:,} organisations, "
        f"{data.regions.height} NUTS 2 regions; generated in {generated:.1f} s; "
        f"median of {repeat} run(s)"
    )
    rows: list[Row] = []
    notes: list[str] = []
    log(f"[{n:,}] Portfolio.from_frames")
    built = measure(build, repeat, lambda data=data: data)
    rows.append(Row("build (Portfolio.from_frames)", built))
    p: Portfolio = built.result
    del data
    frames = to_pandas(p)

    def fresh() -> Portfolio:
        return replace(p)  # same frames, no cached allocation

    figures: dict[str, Flat] = {}
    for name, run, flat, twin in ANALYSES:
        log(f"[{n:,}] {name}")
        engine = measure(run, repeat, fresh)
        pandas = measure(lambda _, twin=twin: twin(frames), repeat)
        figures[name] = flat(engine.result)
        verdict = compare(figures[name], pandas.result)
        engine.result = pandas.result = None
        rows.append(Row(name, engine, pandas, verdict))
    sample: int | str | None = (
        "auto" if args.betweenness_sample < 0 else (args.betweenness_sample or None)
    )
    if args.skip_coherence:
        notes.append("coherence and full report: skipped (--skip-coherence)")
    else:
        log(f"[{n:,}] coherence (betweenness {sample or 'exact'})")
        timing = measure(lambda q: coherence(q, betweenness_sample=sample), repeat, fresh)
        network: Coherence = timing.result
        timing.result = None
        rows.append(Row(f"coherence (betweenness {sample or 'exact'})", timing))
        a, o = network.activity_network, network.organisation_network
        edges = "not counted" if a.edges is None else f"{a.edges:,} edges"
        notes.append(
            f"coherence: activity network {a.nodes:,} nodes / {edges} (weight {a.weight:,}), "
            f"largest component {a.largest_share:.1%}, {a.isolated:,} isolated; organisation "
            f"network {o.nodes:,} nodes / {o.edges:,} edges; {len(network.communities):,} "
            f"communities (Leiden, modularity {network.modularity or 0:.3f}); betweenness "
            f"from {network.betweenness_sources:,} sources"
            f"{' (exact)' if network.betweenness_exact else ' (sampled)'}"
        )
    log(f"[{n:,}] report")
    report = measure(engine_report, repeat, fresh)
    twin = measure(lambda _: pd_report(frames), repeat)
    checks = [compare(figures[name], twin.result[name]) for name in figures]
    verdict = "agree" if all(c == "agree" for c in checks) else "DIFFER"
    rows.append(Row("report without coherence", report, twin, verdict))
    if not args.skip_coherence:
        log(f"[{n:,}] full report")
        full = measure(full_report, repeat, fresh)
        rows.append(Row("full report (all analyses incl. coherence, findings)", full))
    notes.append(f"headline findings: {len(report.result)}; first: {report.result[0]!r}")
    result = SizeResult(n, links, rows, notes)
    print_table(result, repeat)
    return result


def _usage() -> tuple[float, int]:
    """CPU seconds (user + system, every thread) and minor page faults of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def run_full_only(n: int, seed: int, network: Network) -> None:
    """The full report (twice: the first call of a process pays for what a second one
    reuses), the report without coherence and coherence, once each on one generated
    portfolio, with CPU seconds, page faults and the load average (no pandas twins).

    CPU seconds say what the work costs on a shared machine better than wall time: on
    two idle cores wall time is at most the CPU time (Polars uses both cores, igraph one).
    """
    log(f"[{n:,}] generating ...")
    p = build(generate(n, seed, network))
    for name, run in (
        ("full report, first call", full_report),
        ("full report, second call", full_report),
        ("report without coherence", engine_report),
        ("coherence", coherence),
    ):
        q = replace(p)  # no cached allocation
        load = os.getloadavg()[0]
        cpu, faults = _usage()
        start = time.perf_counter()
        run(q)
        wall = time.perf_counter() - start
        cpu_after, faults_after = _usage()
        print(
            f"{n:,} activities: {name}: {wall:.1f} s wall, {cpu_after - cpu:.1f} s CPU, "
            f"{faults_after - faults:,} page faults; load average (1 min) {load:.1f} -> "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print()


def print_growth(results: list[SizeResult]) -> None:
    if len(results) < 2:
        return
    steps = list(itertools.pairwise(results))
    head = ["time ratio per 10x size"] + [f"{a.n:,} -> {b.n:,}" for a, b in steps]
    names = [r.name for r in results[0].rows]
    table = []
    for name in names:
        cells = [name]
        for a, b in steps:
            ra = next((r for r in a.rows if r.name == name), None)
            rb = next((r for r in b.rows if r.name == name), None)
            if ra is None or rb is None:
                cells.append("-")
                continue
            ratio = rb.engine.median / ra.engine.median
            per10 = ratio ** (1 / math.log10(b.n / a.n))
            cells.append(f"x{per10:,.1f}")
        table.append(cells)
    table.append(["n log n would be"] + [
        f"x{((b.n * math.log(b.n)) / (a.n * math.log(a.n))) ** (1 / math.log10(b.n / a.n)):.1f}"
        for a, b in steps
    ])  # fmt: skip
    widths = [max(len(row[i]) for row in [head, *table]) for i in range(len(head))]
    for i, row in enumerate([head, *table]):
        cells = zip(row, widths, strict=True)
        print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(cells)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated activity counts (default 10000,100000,1000000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs per measurement, median reported (default 3 up to 100,000 activities, 1 above)",
    )
    parser.add_argument("--skip-coherence", action="store_true", help="do not run coherence")
    parser.add_argument(
        "--full-only",
        action="store_true",
        help="only time the full report, the report without coherence and coherence, once "
        "each (no pandas twins, no memory sampling)",
    )
    parser.add_argument(
        "--betweenness-sample",
        type=int,
        default=-1,
        help="betweenness from k seeded sources (default -1: coherence's 'auto'; 0 = exact)",
    )
    parser.add_argument(
        "--network",
        choices=("circles", "uniform"),
        default="circles",
        help="partners recur within circles of organisations, as consortia do (default), or "
        "are drawn from everyone: a network with no community structure, the worst case",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)  # fmt: skip
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 100:
        parser.error("sizes must be at least 100 activities")
    print(
        f"portfolio engine vs plain pandas; python {sys.version.split()[0]}, polars "
        f"{version('polars')}, pandas {version('pandas')}, numpy {version('numpy')}, "
        f"networkx {version('networkx')}, igraph {version('igraph')}, scipy {version('scipy')}; "
        f"{os.cpu_count()} CPUs; seed {args.seed}; network {args.network}"
    )
    print(
        "engine/pandas MiB: peak RSS above the call's start (sampled every 2 ms); "
        "pandas/engine: how many times longer pandas takes\n"
    )
    if args.full_only:
        for n in sizes:
            run_full_only(n, args.seed, args.network)
        return 0
    results: list[SizeResult] = []
    for n in sizes:
        results.append(run_size(n, args, results))
    print_growth(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
