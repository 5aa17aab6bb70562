"""Measuring for bench_portfolio.py: wall time, peak memory, and whether the engine and
its pandas twin agree.

Memory is the peak resident set size (RSS) above the RSS at the start of the call,
sampled every 2 ms by a thread (tracemalloc cannot see Polars' allocations, which bypass
Python's allocator).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pandas_twin import Flat

from missionkit.portfolio import ALL

# --- the engine's results in the twins' shape --------------------------------------------


def flat_coverage(c: Any) -> Flat:
    out: Flat = {}
    for o in c.objectives:
        out.update({("objective", o.objective, "budget"): o.budget,
                    ("objective", o.objective, "activities"): o.activities,
                    ("objective", o.objective, "total_budget"): o.total_budget,
                    ("objective", o.objective, "total_activities"): o.total_activities,
                    ("objective", o.objective, "status"): o.status})  # fmt: skip
    out[("unmapped", "count")] = len(c.unmapped_activities)
    out[("unmapped", "budget")] = c.unmapped_budget
    out[("unallocated",)] = c.unallocated_budget
    for cell in c.matrix.cells:
        out[("cell", cell.row, cell.column, "budget")] = cell.budget
        out[("cell", cell.row, cell.column, "activities")] = cell.activities
    return out


def flat_directionality(r: Any) -> Flat:
    out: Flat = {("share",): r.share, ("least",): tuple(g.key for g in r.least_directed)}
    for name, groups in (("call", r.by_call), ("year", r.by_year), ("objective", r.by_objective)):
        for g in groups:
            out.update({(name, g.key, "budget"): g.budget, (name, g.key, "directed"):
                        g.directed_budget, (name, g.key, "activities"): g.activities})  # fmt: skip
    out.update({("provenance", k): v for k, v in r.by_provenance.items()})
    return out


def flat_stage_balance(r: Any) -> Flat:
    out: Flat = {}
    for o in (r.portfolio, *r.objectives):
        for s in o.stages:
            out[("stage", o.objective, s.stage, "budget")] = s.budget
            out[("stage", o.objective, s.stage, "activities")] = s.activities
        out[("missing", o.objective)] = o.missing
    return out


def flat_instrument_mix(r: Any) -> Flat:
    out: Flat = {}
    for c in (*r.portfolio, *r.by_objective):
        out[("mix", c.key, c.instrument)] = (c.budget, c.share, c.activities)
    for c in r.by_year:
        out[("year", "mix", c.key, c.instrument)] = (c.budget, c.share, c.activities)
    for t in r.trend:
        out[("trend", t.instrument)] = (t.first_year, t.first_share, t.last_year, t.last_share)
    return out


def _flat_indices(key: str, x: Any, out: Flat) -> None:
    out[("div", key, "unclassified")] = x.unclassified_share
    out[("div", key, "categories")] = x.categories
    if x.categories:
        out[("div", key, "shannon")] = x.shannon
        out[("div", key, "hhi")] = x.hhi
        out[("div", key, "rao_stirling")] = x.rao_stirling


def flat_diversity(r: Any) -> Flat:
    out: Flat = {}
    _flat_indices(ALL, r.portfolio, out)
    for o in r.objectives:
        _flat_indices(o.objective, o.indices, out)
    return out


def flat_spatial(r: Any) -> Flat:
    out: Flat = {("unattributed", k): v for k, v in r.unattributed.items()}
    out.update({("funding", x.code): x.funding for x in r.regions})
    out[("left_behind",)] = tuple(sorted(r.left_behind))
    out[("gini",)] = r.gini
    out[("gini_unweighted",)] = r.gini_unweighted
    out[("theil", "total")] = r.theil.total
    out[("theil", "between")] = r.theil.between
    out[("theil", "within")] = r.theil.within
    out[("top_share",)] = r.top_share
    out[("capacity",)] = r.capacity_correlation
    return out


def flat_drift(r: Any) -> Flat:
    out: Flat = {}
    for p in r.periods:
        out[("drift", p.period, "budget")] = p.budget
        out[("drift", p.period, "directed_share")] = p.directed_share
        out.update({("drift", p.period, "stage", s): v for s, v in p.stage_shares.items()})
        out.update({("drift", p.period, "instrument", i): v
                    for i, v in p.instrument_shares.items()})  # fmt: skip
    if r.directed_share_change is not None:
        out[("change",)] = r.directed_share_change
    return out


def _same(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-9)
    return bool(a == b)


def compare(engine: Flat, twin: Flat, tolerance: float = 1e-6) -> str:
    """'agree', or what differs first."""
    if engine.keys() != twin.keys():
        only = sorted(map(str, engine.keys() ^ twin.keys()))
        return f"DIFFER: {len(only)} keys in one only, e.g. {only[0]}"
    bad = [k for k in engine if not _same(engine[k], twin[k], tolerance)]
    if bad:
        return f"DIFFER: {len(bad)} values, e.g. {bad[0]}: {engine[bad[0]]!r} vs {twin[bad[0]]!r}"
    return "agree"


# --- measuring ------------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


def _trim() -> None:
    """Return freed memory to the system first, so each call starts from a low RSS."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakRSS:
    """Peak RSS above the start, sampled by a thread every ``interval`` seconds."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.start) / 2**20


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    mib: float = 0.0
    result: Any = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    run: Callable[[Any], Any], repeat: int, setup: Callable[[], Any] = lambda: None
) -> Timing:
    """Median wall time and largest RSS delta of ``run(setup())`` over ``repeat`` runs
    (setup is not timed); keeps the last result."""
    timing = Timing()
    for _ in range(repeat):
        timing.result = None
        arg = setup()
        _trim()
        with PeakRSS() as peak:
            start = time.perf_counter()
            result = run(arg)
            timing.seconds.append(time.perf_counter() - start)
        timing.mib = max(timing.mib, peak.delta_mib)
        timing.result = result
    return timing
