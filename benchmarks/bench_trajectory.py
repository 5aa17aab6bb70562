"""How fast does the trajectory engine assess many indicators?

Generates N synthetic yearly series (default 1,000,000 series of 11 years, 2015-2025, with
about 5 % missing values, mixed directions, a target for 70 % of them and a natural limit
for some of the rest), then, for each method:

- vectorised: ``assess_batch`` over all N series (median of ``--repeat`` runs);
- loop: the plain per-series ``assess`` in a Python loop, run in the same process on a
  random subsample of ``--loop-n`` series (median of ``--repeat`` runs) and extrapolated
  to N, because looping over a million series takes minutes per method.

Both paths get prebuilt inputs (arrays, or ``IndicatorSeries`` objects); building them is
not timed. The script also checks that both paths give the same category on the subsample.

    .venv/bin/python benchmarks/bench_trajectory.py
    .venv/bin/python benchmarks/bench_trajectory.py --n 100000 --loop-n 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from missionkit.trajectory import (
    METHODS,
    IndicatorSeries,
    Method,
    SeriesBatch,
    assess,
    assess_batch,
)


def generate(n: int, years: int, seed: int) -> SeriesBatch:
    """Random-walk series around a trend, with gaps, targets and limits."""
    rng = np.random.default_rng(seed)
    grid = np.arange(2015, 2015 + years, dtype=np.float64)
    base = rng.uniform(5.0, 95.0, n)
    trend = rng.normal(0.0, 0.03, n)
    noise = rng.normal(0.0, 0.02, (n, years))
    noise[:, 0] = 0.0
    values = base[:, None] * np.exp(np.cumsum(trend[:, None] + noise, axis=1))
    values[rng.random((n, years)) < 0.05] = np.nan
    direction = rng.choice(np.array([1, -1], dtype=np.int8), n)
    has_target = rng.random(n) < 0.7
    target = np.where(has_target, base * rng.uniform(0.5, 1.5, n), np.nan)
    target_year = np.where(has_target, 2030.0, np.nan)
    limit = np.where(~has_target & (rng.random(n) < 0.3), 100.0, np.nan)
    return SeriesBatch.build(grid, values, direction, target, target_year, np.nan, limit)


def to_series(batch: SeriesBatch, rows: np.ndarray) -> list[IndicatorSeries]:
    """The same rows as ``IndicatorSeries`` (missing values left out)."""
    out = []
    years = [int(y) for y in batch.years]
    for i in rows.tolist():
        values = batch.values[i]
        points = [(y, float(v)) for y, v in zip(years, values, strict=True) if v == v]

        def opt(x: float) -> float | None:
            return None if x != x else float(x)

        ty = batch.target_year[i]
        out.append(
            IndicatorSeries.of(
                points,
                "increase" if batch.direction[i] > 0 else "decrease",
                target=opt(batch.target[i]),
                target_year=None if ty != ty else int(ty),
                limit=opt(batch.limit[i]),
            )
        )
    return out


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="series (default 1,000,000)")
    parser.add_argument("--years", type=int, default=11, help="years per series (default 11)")
    parser.add_argument("--loop-n", type=int, default=20_000, help="loop subsample size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument("--seed", type=int, default=20240605)
    args = parser.parse_args(argv)
    methods: list[Method] = []
    for name in args.methods.split(","):
        matches = [m for m in METHODS if m == name]
        if not matches:
            parser.error(f"unknown method {name!r}")
        methods.extend(matches)

    print(f"generating {args.n:,} series x {args.years} years ...", file=sys.stderr, flush=True)
    batch = generate(args.n, args.years, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    rows = np.sort(rng.choice(args.n, size=min(args.loop_n, args.n), replace=False))
    sample = to_series(batch, rows)
    sub = SeriesBatch(
        batch.years,
        batch.values[rows],
        batch.direction[rows],
        batch.target[rows],
        batch.target_year[rows],
        batch.base_year[rows],
        batch.limit[rows],
    )

    print(
        f"trajectory engine: {args.n:,} series x {args.years} years; median of {args.repeat} "
        f"runs; loop measured on {len(sample):,} series and extrapolated to {args.n:,}"
    )
    header = (
        f"{'method':<11} {'vectorised s':>12} {'vectorised series/s':>20} "
        f"{'loop series/s':>14} {'loop s (extrap.)':>17} {'speed-up':>9} {'agree':>13}"
    )
    print(header)
    print("-" * len(header))
    for method in methods:

        def vectorised(m: Method = method) -> object:
            return assess_batch(batch, m)

        def loop_all(m: Method = method) -> object:
            return [assess(s, m) for s in sample]

        vec = median_seconds(vectorised, args.repeat)
        loop = median_seconds(loop_all, args.repeat)
        loop_rate = len(sample) / loop
        vec_rate = args.n / vec
        check = assess_batch(sub, method).category_names()
        agree = sum(assess(s, method).category == c for s, c in zip(sample, check, strict=True))
        print(
            f"{method:<11} {vec:>12.3f} {vec_rate:>20,.0f} {loop_rate:>14,.0f} "
            f"{args.n / loop_rate:>17.1f} {vec_rate / loop_rate:>8.0f}x "
            f"{agree:>6,}/{len(sample):<6,}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
