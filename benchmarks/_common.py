"""Helpers shared by the benchmark scripts: throwaway databases, statistics, tables."""

from __future__ import annotations

import math
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = os.environ.get(
    "MISSIONKIT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_serial = count(1)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def postgres_unreachable(admin_url: str) -> str | None:
    """Why PostgreSQL at ``admin_url`` cannot be used, or None when it can."""
    try:
        engine = create_engine(
            admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as e:  # any driver or network failure means "skip PostgreSQL"
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else e}"
    return None


def postgres_skipped(admin_url: str | None) -> str | None:
    """Why the PostgreSQL measurements are skipped (and logged), or None when they run.

    ``admin_url`` is None when the user passed ``--skip-postgres``.
    """
    if admin_url is None:
        why = "disabled by --skip-postgres"
    elif (reason := postgres_unreachable(admin_url)) is not None:
        why = f"unreachable at {admin_url} ({reason})"
    else:
        return None
    log(f"PostgreSQL skipped: {why}")
    return why


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one measurement; dropped afterwards.

    The only SQL the benchmarks issue themselves: CREATE DATABASE and DROP DATABASE, on a
    name of their own (``missionkit_bench_<pid>_<n>``), so no other data is touched.
    """
    name = f"missionkit_bench_{os.getpid()}_{next(_serial)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def time_interleaved(
    gets: dict[str, Callable[[], Any]], requests: int, warmup: int, label: str
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds per request and the last response's size in bytes, per request kind.

    Each kind runs ``requests`` times after ``warmup`` untimed rounds, the kinds
    alternating so that drift (caches, other load) hits them all alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in gets}
    sizes: dict[str, int] = dict.fromkeys(gets, 0)
    for _ in range(warmup):
        for get in gets.values():
            get().raise_for_status()
    for n in range(requests):
        for name, get in gets.items():
            started = time.perf_counter()
            response = get()
            samples[name].append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            sizes[name] = len(response.content)
        print(f"\r  {label}: {n + 1}/{requests} requests each", end="", file=sys.stderr)
    print(file=sys.stderr)
    return samples, sizes


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1): a value that was actually observed."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt_int(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def fmt_float(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"
