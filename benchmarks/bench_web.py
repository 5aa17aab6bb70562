"""Web page latency: the cockpit and the portfolio explorer of a 10,000-activity mission.

Builds a mission with 10,000 activities (generate + import) in SQLite, and in a throwaway
PostgreSQL database when one is reachable, then times full page requests through
``fastapi.testclient.TestClient(create_app(db))``: routing, the services' queries,
template rendering and the inline SVG charts, as a browser would receive them (no
network hop, no browser). The baseline, measured in the same run and interleaved with the
pages, is ``GET /api/missions/{id}`` (one small record).

Pages timed:

- ``cockpit``: ``/missions/{slug}`` (indicators, objectives served, budget by instrument
  and stage, regional spread, reviews; the portfolio findings load separately),
- ``findings`` (with ``--findings``): ``/missions/{slug}/findings``, the portfolio
  engine's headline findings, which the cockpit fetches after it is shown (slow at this
  size while the engine is being optimised, hence opt-in),
- ``explorer``: the first page of 25, sorted by budget,
- ``explorer-filtered``: text search plus instrument, stage and budget filters,
- ``explorer-deep``: page 300 of 400, sorted by title,
- ``export-csv``: the whole portfolio as CSV.

    python benchmarks/bench_web.py --activities 10000 --requests 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_POSTGRES_URL,
    fmt_float,
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
DEFAULT_REQUESTS = 20
DEFAULT_WARMUP = 2


def pages(slug: str, findings: bool) -> dict[str, str]:
    base = f"/missions/{slug}"
    return {
        "cockpit": base,
        **({"findings": f"{base}/findings"} if findings else {}),
        "explorer": f"{base}/portfolio",
        "explorer-filtered": f"{base}/portfolio?q=energy&instrument=grant&stage=research"
        "&budget_min=100000",
        "explorer-deep": f"{base}/portfolio?sort=title&page=300",
        "export-csv": f"{base}/portfolio.csv",
    }


def _time(
    gets: dict[str, Callable[[], Any]], requests: int, warmup: int, label: str
) -> dict[str, dict[str, Any]]:
    """Median, p95, size and samples per request kind (see :func:`time_interleaved`)."""
    samples, sizes = time_interleaved(gets, requests, warmup, label)
    return {
        name: {
            "median_ms": median(values),
            "p95_ms": percentile(values, 0.95),
            "bytes": sizes[name],
            "samples_ms": values,
        }
        for name, values in samples.items()
    }


def measure(
    backend: str,
    url: str,
    document: Path,
    activities: int,
    requests: int,
    warmup: int,
    findings: bool = False,
) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    database = open_database(url)
    try:
        import_document(database, document, progress=stderr_progress(f"{backend} import"))
        with TestClient(create_app(database)) as client:
            body = client.get(f"/api/missions/{MISSION_SLUG}/map").json()
            if body["summary"]["activities"] != activities:
                raise RuntimeError(f"the mission holds {body['summary']['activities']} activities")
            mission_id = body["mission"]["id"]
            gets: dict[str, Callable[[], Any]] = {
                name: (lambda path=path: client.get(path))
                for name, path in pages(MISSION_SLUG, findings).items()
            }
            gets["record"] = lambda: client.get(f"/api/missions/{mission_id}")
            timed = _time(gets, requests, warmup, f"{backend} GET")
    finally:
        database.dispose()
    return {"backend": backend, "activities": activities, "timings": timed}


def report(results: list[dict[str, Any]], requests: int, skipped: str | None) -> str:
    lines = []
    for r in results:
        base = r["timings"]["record"]["median_ms"]
        rows = [
            [
                name,
                fmt_float(t["median_ms"], 1),
                fmt_float(t["p95_ms"], 1),
                f"{t['bytes'] / 1024:,.0f}",
                f"{t['median_ms'] / base:,.0f}x",
            ]
            for name, t in r["timings"].items()
        ]
        lines += [
            f"{r['backend']}: {r['activities']:,} activities, {requests} requests each after "
            f"warm-up (ms); ratio = median / median of the single-record GET",
            table(["page", "median", "p95", "KiB", "vs record"], rows),
            "",
        ]
    if skipped:
        lines.append(f"PostgreSQL skipped: {skipped}")
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="admin URL")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, help="where the document and SQLite file go")
    parser.add_argument("--findings", action="store_true", help="also time the findings")
    args = parser.parse_args(argv)
    if args.activities < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--activities and --requests must be at least 1, --warmup at least 0")
    skipped = postgres_skipped(None if args.skip_postgres else args.postgres_url)
    results = []
    with tempfile.TemporaryDirectory(prefix="missionkit-web-", dir=args.workdir) as tmp:
        document = Path(tmp) / f"mission-{args.activities}.json"
        log(f"generating {args.activities:,} activities -> {document}")
        generate(document, args.activities, DEFAULT_SEED, stderr_progress("generating"))
        results.append(
            measure(
                "sqlite",
                sqlite_url(Path(tmp) / "web.sqlite"),
                document,
                args.activities,
                args.requests,
                args.warmup,
                args.findings,
            )
        )
        if not skipped:
            with throwaway_postgres(args.postgres_url) as url:
                results.append(
                    measure(
                        "postgresql",
                        url,
                        document,
                        args.activities,
                        args.requests,
                        args.warmup,
                        args.findings,
                    )
                )
    print(report(results, args.requests, skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
