"""Run the import and mission-map benchmarks and print a compact summary.

python benchmarks/run.py                 # 100k-activity import, 10k-activity map
python benchmarks/run.py --quick         # 10k-activity import (3 rounds), 10k map
python benchmarks/run.py --activities 250000 --json results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import bench_import
import bench_map
from _common import DEFAULT_POSTGRES_URL, fmt_float, fmt_int, log, table

QUICK_ACTIVITIES = 10_000


def default_repeat(activities: int) -> int:
    """One round for big imports (minutes each), three for small ones (noisier)."""
    return 1 if activities >= 50_000 else 3


def summary(
    imports: bench_import.ImportResults,
    maps: list[bench_map.MapResult],
) -> str:
    backends = ["sqlite", "postgresql"]
    by_backend = {m.backend: m for m in maps}
    check = imports.phases["check"]

    def imp(name: str, pick: str) -> str:
        p = imports.phases.get(name)
        if p is None:
            return "skipped"
        if pick == "seconds":
            return fmt_float(p.seconds, 1)
        if pick == "activities/s":
            return fmt_int(p.activities_per_second)
        if pick == "rows/s":
            return fmt_int(p.rows_per_second)
        if pick == "ratio":
            ratio = imports.ratio(name)
            return f"{ratio:.2f}x" if ratio is not None else "-"
        return fmt_int(p.rss_peak_mib)

    def mp(name: str, pick: str) -> str:
        m = by_backend.get(name)
        if m is None:
            return "skipped"
        if pick == "median":
            return fmt_float(m.map.median_ms, 1)
        if pick == "p95":
            return fmt_float(m.map.p95_ms, 1)
        if pick == "record":
            return fmt_float(m.baseline.median_ms, 2)
        if pick == "ratio":
            return f"{m.ratio:,.0f}x"
        return f"{m.map.size_bytes / 2**20:.2f}"

    n = f"{imports.activities:,}"
    m_n = f"{maps[0].activities:,}" if maps else "-"
    rows = [
        [f"import {n}: seconds (median of {imports.repeat})"]
        + [imp(b, "seconds") for b in backends],
        ["import: activities/s", *(imp(b, "activities/s") for b in backends)],
        [f"import: rows/s ({fmt_int(imports.phases['sqlite'].rows)} rows)"]
        + [imp(b, "rows/s") for b in backends],
        [f"import / check baseline ({check.seconds:.1f}s)", *(imp(b, "ratio") for b in backends)],
        [f"import: peak RSS MiB (check: {check.rss_peak_mib:.0f})"]
        + [imp(b, "rss") for b in backends],
        [f"map {m_n}: median ms", *(mp(b, "median") for b in backends)],
        ["map: p95 ms", *(mp(b, "p95") for b in backends)],
        ["record GET: median ms (baseline)", *(mp(b, "record") for b in backends)],
        ["map / record", *(mp(b, "ratio") for b in backends)],
        ["map response MiB", *(mp(b, "size") for b in backends)],
    ]
    return table(["figure", *backends], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, help="import size (default 100,000)")
    parser.add_argument(
        "--quick", action="store_true", help=f"import {QUICK_ACTIVITIES:,} activities instead"
    )
    parser.add_argument("--repeat", type=int, help="import rounds (default 1; 3 below 50k)")
    parser.add_argument("--map-activities", type=int, default=bench_map.DEFAULT_ACTIVITIES)
    parser.add_argument("--requests", type=int, default=bench_map.DEFAULT_REQUESTS)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="admin URL")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, help="where documents and SQLite files go")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    activities = args.activities or (
        QUICK_ACTIVITIES if args.quick else bench_import.DEFAULT_ACTIVITIES
    )
    repeat = args.repeat or default_repeat(activities)
    if activities < 1 or repeat < 1 or args.map_activities < 1 or args.requests < 1:
        parser.error("sizes, --repeat and --requests must be at least 1")
    postgres_url = None if args.skip_postgres else args.postgres_url

    started = time.perf_counter()
    log(f"== import benchmark ({activities:,} activities, {repeat} round(s))")
    imports = bench_import.run(
        activities, repeat=repeat, postgres_url=postgres_url, workdir=args.workdir
    )
    log(f"== map benchmark ({args.map_activities:,} activities)")
    maps, skipped = bench_map.run(
        args.map_activities,
        requests=args.requests,
        postgres_url=postgres_url,
        workdir=args.workdir,
    )
    elapsed = time.perf_counter() - started

    print(bench_import.report(imports))
    print()
    print(bench_map.report(maps, args.requests, skipped))
    print()
    print(
        f"Summary ({platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, total {elapsed / 60:.1f} min; medians, machines are noisy)"
    )
    print(summary(imports, maps))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "import": imports.as_dict(),
                    "map": [m.as_dict() for m in maps],
                    "postgres_skipped": skipped,
                    "elapsed_seconds": elapsed,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
