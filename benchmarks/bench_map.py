"""Mission-map latency: ``GET /api/missions/{id}/map`` over the full ASGI stack.

Builds a mission with 10,000 activities (generate + import) in SQLite, and in a throwaway
PostgreSQL database when one is reachable, then times requests through
``fastapi.testclient.TestClient(create_app(db))``: routing, the endpoint, the map query
and JSON encoding, as a client sees them (no network hop). The baseline, measured in the
same run, is ``GET /api/missions/{id}`` (one small record).

    python benchmarks/bench_map.py --activities 10000 --requests 30
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_POSTGRES_URL,
    fmt_float,
    fmt_int,
    log,
    median,
    percentile,
    postgres_skipped,
    sqlite_url,
    table,
    throwaway_postgres,
    time_interleaved,
)
from generate import DEFAULT_SEED, MISSION_SLUG, generate, stderr_progress

from missionkit.api.app import create_app
from missionkit.services.setup import open_database
from missionkit.services.transfer import import_document

DEFAULT_ACTIVITIES = 10_000
DEFAULT_REQUESTS = 30
DEFAULT_WARMUP = 3


@dataclass
class Latency:
    """Milliseconds per request, plus the size of the last response body."""

    samples_ms: list[float]
    size_bytes: int

    @property
    def median_ms(self) -> float:
        return median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ms, 0.95)


@dataclass
class MapResult:
    backend: str
    activities: int
    import_seconds: float
    map: Latency
    baseline: Latency

    @property
    def ratio(self) -> float:
        return self.map.median_ms / self.baseline.median_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "activities": self.activities,
            "import_seconds": self.import_seconds,
            "map_median_ms": self.map.median_ms,
            "map_p95_ms": self.map.p95_ms,
            "map_bytes": self.map.size_bytes,
            "baseline_median_ms": self.baseline.median_ms,
            "baseline_p95_ms": self.baseline.p95_ms,
            "baseline_bytes": self.baseline.size_bytes,
            "ratio": self.ratio,
        }


def measure(
    backend: str, url: str, document: Path, activities: int, requests: int, warmup: int
) -> MapResult:
    # Imported here, not at the top: run.py's import workers need not load it.
    from fastapi.testclient import TestClient

    database = open_database(url)
    try:
        started = time.perf_counter()
        import_document(database, document, progress=stderr_progress(f"{backend} import"))
        import_seconds = time.perf_counter() - started
        with TestClient(create_app(database)) as client:
            first = client.get(f"/api/missions/{MISSION_SLUG}/map")
            first.raise_for_status()
            body = first.json()
            mission_id = body["mission"]["id"]
            found = body["summary"]["activities"]
            if found != activities:
                raise RuntimeError(f"the map shows {found} activities, expected {activities}")
            map_path, record_path = f"/api/missions/{mission_id}/map", f"/api/missions/{mission_id}"
            samples, sizes = time_interleaved(
                {
                    "map": lambda: client.get(map_path),
                    "record": lambda: client.get(record_path),
                },
                requests,
                warmup,
                f"{backend} GET",
            )
            timed = {name: Latency(samples[name], sizes[name]) for name in samples}
    finally:
        database.dispose()
    return MapResult(backend, activities, import_seconds, timed["map"], timed["record"])


def run(
    activities: int = DEFAULT_ACTIVITIES,
    *,
    requests: int = DEFAULT_REQUESTS,
    warmup: int = DEFAULT_WARMUP,
    postgres_url: str | None = DEFAULT_POSTGRES_URL,
    workdir: Path | None = None,
    seed: int = DEFAULT_SEED,
) -> tuple[list[MapResult], str | None]:
    """Results per backend, and why PostgreSQL was skipped (None when it ran)."""
    skipped = postgres_skipped(postgres_url)
    results = []
    with tempfile.TemporaryDirectory(prefix="missionkit-map-", dir=workdir) as tmp:
        document = Path(tmp) / f"mission-{activities}.json"
        log(f"generating {activities:,} activities -> {document}")
        generate(document, activities, seed, stderr_progress("generating"))
        results.append(
            measure(
                "sqlite",
                sqlite_url(Path(tmp) / "map.sqlite"),
                document,
                activities,
                requests,
                warmup,
            )
        )
        if not skipped:
            assert postgres_url is not None
            with throwaway_postgres(postgres_url) as url:
                results.append(measure("postgresql", url, document, activities, requests, warmup))
    return results, skipped


def report(results: list[MapResult], requests: int, skipped: str | None) -> str:
    activities = results[0].activities if results else 0
    rows = []
    for r in results:
        rows.append(
            [
                r.backend,
                fmt_float(r.map.median_ms, 1),
                fmt_float(r.map.p95_ms, 1),
                f"{r.map.size_bytes / 2**20:.2f}",
                fmt_float(r.baseline.median_ms, 2),
                fmt_float(r.baseline.p95_ms, 2),
                fmt_int(r.baseline.size_bytes),
                f"{r.ratio:,.0f}x",
            ]
        )
    lines = [
        f"Map: GET /api/missions/{{id}}/map, {activities:,} activities, "
        f"{requests} requests after warm-up (ms)",
        table(
            [
                "backend",
                "map median",
                "map p95",
                "map MiB",
                "record median",
                "record p95",
                "record bytes",
                "map/record",
            ],
            rows,
        ),
    ]
    if skipped:
        lines.append(f"PostgreSQL skipped: {skipped}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="admin URL")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, help="where the document and SQLite file go")
    args = parser.parse_args(argv)
    if args.activities < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--activities and --requests must be at least 1, --warmup at least 0")
    results, skipped = run(
        args.activities,
        requests=args.requests,
        warmup=args.warmup,
        postgres_url=None if args.skip_postgres else args.postgres_url,
        workdir=args.workdir,
    )
    print(report(results, args.requests, skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
