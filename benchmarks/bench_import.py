"""Import throughput: a generated mission-map document into SQLite and PostgreSQL.

Each measurement runs in a fresh worker process, so its peak RSS is its own:

* ``check``      -- baseline: stream-parse and validate the file (``check_document``);
* ``sqlite``     -- ``import_document`` into a fresh, migrated SQLite file;
* ``postgresql`` -- ``import_document`` into a fresh, migrated throwaway database.

Import time is reported as a ratio to the baseline measured in the same run, which
travels between machines better than seconds do.

    python benchmarks/bench_import.py --activities 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import cProfile
import io
import multiprocessing
import pstats
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_POSTGRES_URL,
    fmt_float,
    fmt_int,
    log,
    median,
    peak_rss_mib,
    postgres_skipped,
    sqlite_url,
    table,
    throwaway_postgres,
)
from generate import DEFAULT_SEED, generate, stderr_progress

from missionkit.services.setup import open_database
from missionkit.services.transfer import BATCH, check_document, import_document

DEFAULT_ACTIVITIES = 100_000


@dataclass
class Sample:
    """One measurement, as a worker process reports it."""

    phase: str
    seconds: float
    activities: int
    rows: int | None
    rss_start_mib: float
    rss_peak_mib: float


@dataclass
class PhaseResult:
    """The median of a phase's samples (peak RSS: the largest)."""

    phase: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return median([s.seconds for s in self.samples])

    @property
    def activities(self) -> int:
        return self.samples[-1].activities

    @property
    def rows(self) -> int | None:
        return self.samples[-1].rows

    @property
    def activities_per_second(self) -> float:
        return median([s.activities / s.seconds for s in self.samples])

    @property
    def rows_per_second(self) -> float | None:
        if self.rows is None:
            return None
        return median([(s.rows or 0) / s.seconds for s in self.samples])

    @property
    def rss_start_mib(self) -> float:
        return max(s.rss_start_mib for s in self.samples)

    @property
    def rss_peak_mib(self) -> float:
        return max(s.rss_peak_mib for s in self.samples)


@dataclass
class ImportResults:
    activities: int
    document_mib: float
    repeat: int
    batch_size: int
    phases: dict[str, PhaseResult]
    postgres_skipped: str | None = None

    def ratio(self, phase: str) -> float | None:
        if phase not in self.phases or "check" not in self.phases:
            return None
        return self.phases[phase].seconds / self.phases["check"].seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "activities": self.activities,
            "document_mib": self.document_mib,
            "repeat": self.repeat,
            "batch_size": self.batch_size,
            "postgres_skipped": self.postgres_skipped,
            "phases": {
                name: {
                    "median_seconds": p.seconds,
                    "activities_per_second": p.activities_per_second,
                    "rows": p.rows,
                    "rows_per_second": p.rows_per_second,
                    "ratio_to_check": self.ratio(name),
                    "rss_start_mib": p.rss_start_mib,
                    "rss_peak_mib": p.rss_peak_mib,
                    "samples": [asdict(s) for s in p.samples],
                }
                for name, p in self.phases.items()
            },
        }


# -- worker side (runs in a fresh process) ----------------------------------------------


def _measure(
    phase: str, document: str, target: str | None, batch_size: int, activities: int
) -> Sample:
    """Run one phase and report its time and this process's peak RSS."""
    path = Path(document)
    progress = stderr_progress(f"{phase} import")
    if phase == "check":
        rss_start = peak_rss_mib()
        started = time.perf_counter()
        problems = check_document(path)
        seconds = time.perf_counter() - started
        if problems:
            raise RuntimeError(f"the generated document has problems: {problems[:5]}")
        return Sample(phase, seconds, activities, None, rss_start, peak_rss_mib())
    assert target is not None
    database = open_database(target)  # migrations run here, outside the timed part
    try:
        rss_start = peak_rss_mib()
        started = time.perf_counter()
        report = import_document(database, path, progress=progress, batch_size=batch_size)
        seconds = time.perf_counter() - started
    finally:
        database.dispose()
    return Sample(phase, seconds, report.activities, report.rows, rss_start, peak_rss_mib())


def _in_fresh_process(
    phase: str, document: Path, target: str | None, batch_size: int, activities: int
) -> Sample:
    context = multiprocessing.get_context("spawn")
    with futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        job = pool.submit(_measure, phase, str(document), target, batch_size, activities)
        return job.result()


# -- driver ------------------------------------------------------------------------------


def run(
    activities: int = DEFAULT_ACTIVITIES,
    *,
    repeat: int = 1,
    postgres_url: str | None = DEFAULT_POSTGRES_URL,
    workdir: Path | None = None,
    batch_size: int = BATCH,
    seed: int = DEFAULT_SEED,
) -> ImportResults:
    """Generate once, then measure check / SQLite / PostgreSQL ``repeat`` times each."""
    skipped = postgres_skipped(postgres_url)
    with tempfile.TemporaryDirectory(prefix="missionkit-bench-", dir=workdir) as tmp:
        document = Path(tmp) / f"mission-{activities}.json"
        log(f"generating {activities:,} activities -> {document}")
        generate(document, activities, seed, stderr_progress("generating"))
        size = document.stat().st_size / 2**20
        log(f"document: {size:.1f} MiB")
        phases = {name: PhaseResult(name) for name in ("check", "sqlite", "postgresql")}
        if skipped:
            del phases["postgresql"]
        for n in range(1, repeat + 1):
            log(f"-- round {n}/{repeat}")
            sample = _in_fresh_process("check", document, None, batch_size, activities)
            log(f"  check: {sample.seconds:.1f}s")
            phases["check"].samples.append(sample)
            sqlite_file = Path(tmp) / f"import-{n}.sqlite"
            sample = _in_fresh_process(
                "sqlite", document, sqlite_url(sqlite_file), batch_size, activities
            )
            log(f"  sqlite: {sample.seconds:.1f}s, {sample.rows:,} rows")
            phases["sqlite"].samples.append(sample)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
            if not skipped:
                assert postgres_url is not None
                with throwaway_postgres(postgres_url) as url:
                    sample = _in_fresh_process("postgresql", document, url, batch_size, activities)
                log(f"  postgresql: {sample.seconds:.1f}s, {sample.rows:,} rows")
                phases["postgresql"].samples.append(sample)
    return ImportResults(activities, size, repeat, batch_size, phases, skipped)


def report(results: ImportResults) -> str:
    rows = []
    for name, p in results.phases.items():
        ratio = results.ratio(name)
        rows.append(
            [
                "check (baseline)" if name == "check" else f"import {name}",
                fmt_float(p.seconds, 1),
                fmt_int(p.activities_per_second),
                fmt_int(p.rows),
                fmt_int(p.rows_per_second),
                "1.00x" if name == "check" else f"{ratio:.2f}x" if ratio else "-",
                fmt_int(p.rss_start_mib),
                fmt_int(p.rss_peak_mib),
            ]
        )
    title = (
        f"Import: {results.activities:,} activities, document {results.document_mib:.1f} MiB, "
        f"batch {results.batch_size:,}, median of {results.repeat}"
    )
    body = table(
        [
            "phase",
            "seconds",
            "activities/s",
            "rows",
            "rows/s",
            "vs check",
            "RSS start MiB",
            "RSS peak MiB",
        ],
        rows,
    )
    lines = [title, body]
    if results.postgres_skipped:
        lines.append(f"PostgreSQL skipped: {results.postgres_skipped}")
    return "\n".join(lines)


def profile(
    phase: str,
    activities: int,
    postgres_url: str,
    workdir: Path | None,
    batch_size: int,
    top: int = 25,
) -> str:
    """cProfile one phase in this process; the top functions by own and cumulative time."""
    with tempfile.TemporaryDirectory(prefix="missionkit-prof-", dir=workdir) as tmp:
        document = generate(
            Path(tmp) / "mission.json", activities, DEFAULT_SEED, stderr_progress("generating")
        )
        profiler = cProfile.Profile()
        if phase == "check":
            profiler.runcall(check_document, document)
        elif phase == "sqlite":
            database = open_database(sqlite_url(Path(tmp) / "profile.sqlite"))
            profiler.runcall(import_document, database, document, batch_size=batch_size)
            database.dispose()
        else:
            with throwaway_postgres(postgres_url) as url:
                database = open_database(url)
                profiler.runcall(import_document, database, document, batch_size=batch_size)
                database.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument(
        "--repeat", type=int, help="rounds, medians reported (default 1; 3 below 50k)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="admin URL")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, help="where the document and SQLite file go")
    parser.add_argument(
        "--profile",
        choices=("check", "sqlite", "postgresql"),
        help="instead of timing, cProfile one phase and print the top functions",
    )
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.activities >= 50_000 else 3
    if args.activities < 1 or args.repeat < 1:
        parser.error("--activities and --repeat must be at least 1")
    if args.profile:
        print(
            profile(args.profile, args.activities, args.postgres_url, args.workdir, args.batch_size)
        )
        return 0
    results = run(
        args.activities,
        repeat=args.repeat,
        postgres_url=None if args.skip_postgres else args.postgres_url,
        workdir=args.workdir,
        batch_size=args.batch_size,
    )
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
