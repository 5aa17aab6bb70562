"""Generate a large, valid, deterministic mission-map document for benchmarks.

The document is streamed to disk one record at a time (``json.dumps`` per record), so
generating a million activities never holds them in memory; only the organisation
identifiers (about a tenth of the activity count) are kept, to draw participants from.

    python benchmarks/generate.py --activities 100000 --output /tmp/mission.json
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO

from missionkit.domain.document import FORMAT, FORMAT_VERSION
from missionkit.domain.regions import lookup_region

DEFAULT_ACTIVITIES = 100_000
DEFAULT_SEED = 20_240_601
MISSION_SLUG = "climate-neutral-smart-cities"

# (activities done, activities in all), called every few thousand activities.
GenProgress = Callable[[int, int], None]

_ORG_TYPES = (
    ("sme", 30),
    ("business", 15),
    ("academic", 20),
    ("research", 15),
    ("public", 12),
    ("civil_society", 5),
    ("other", 3),
)
_ROLES_AFTER_LEAD = (("participant", 80), ("associated", 8), ("implementer", 7), ("funder", 5))
_INSTRUMENTS = (
    ("grant", 70),
    ("procurement", 8),
    ("loan", 5),
    ("equity", 3),
    ("guarantee", 2),
    ("prize", 3),
    ("sandbox", 4),
    ("regulation", 2),
    ("other", 3),
)
_KINDS = (("project", 92), ("programme", 5), ("call", 3))
_STAGES = ("research", "development", "demonstration", "deployment", "diffusion")
_PROVENANCE = (("manual", 40), ("suggested", 40), ("reviewed", 20))
_TRACKERS = ("jira", "github", "gitlab", "azure", "linear")
_SECTORS = (
    "energy",
    "mobility",
    "buildings",
    "digital",
    "water",
    "waste",
    "governance",
    "finance",
    "health",
    "agriculture",
)
_WORDS = (
    "Adaptive",
    "Urban",
    "Resilient",
    "Zero-Carbon",
    "Circular",
    "Smart",
    "Positive-Energy",
    "Green",
    "Integrated",
    "Citizen-Led",
    "Data-Driven",
    "Low-Emission",
    "Heat",
    "Grid",
    "District",
    "Mobility",
    "Retrofit",
    "Hydrogen",
    "Storage",
    "Nature-Based",
)
_NOUNS = (
    "Neighbourhoods",
    "Districts",
    "Transport",
    "Retrofits",
    "Heating Networks",
    "Living Labs",
    "Grids",
    "Twins",
    "Logistics",
    "Communities",
    "Buildings",
    "Procurement",
    "Solutions",
)
_ORG_STEMS = (
    "Institute",
    "University",
    "Energy",
    "Technologies",
    "Solutions",
    "City Council",
    "Agency",
    "Foundation",
    "Systems",
    "Labs",
    "Cooperative",
    "Mobility",
)
_CITIES = (
    "Aalborg",
    "Bologna",
    "Cluj",
    "Delft",
    "Espoo",
    "Freiburg",
    "Ghent",
    "Graz",
    "Lyon",
    "Malmö",
    "Porto",
    "Riga",
    "Tartu",
    "Valencia",
    "Wrocław",
    "Zaragoza",
)

# Objectives: (slug, title, parent slug); four roots, two nesting levels below.
_OBJECTIVES = (
    ("reduce-emissions", "Cut greenhouse-gas emissions", None),
    ("energy-transition", "Decarbonise urban energy", "reduce-emissions"),
    ("renewable-heat", "Renewable heating and cooling", "energy-transition"),
    ("building-retrofit", "Deep renovation of buildings", "energy-transition"),
    ("clean-mobility", "Zero-emission mobility", "reduce-emissions"),
    ("public-transport", "Attractive public transport", "clean-mobility"),
    ("active-travel", "Walking and cycling", "clean-mobility"),
    ("circular-economy", "Circular material flows", None),
    ("waste-prevention", "Prevent and recycle waste", "circular-economy"),
    ("citizen-engagement", "Citizens shape the transition", None),
    ("climate-city-contracts", "Climate city contracts", "citizen-engagement"),
    ("finance-and-investment", "Finance the transition", None),
)


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


@dataclass(frozen=True)
class NutsRegion:
    code: str
    country: str
    level: int


def nuts_regions() -> list[NutsRegion]:
    """NUTS 2021 level 2 and 3 regions from the package's reference list (no extra-regio)."""
    text = files("missionkit.reference").joinpath("nuts2021.csv").read_text(encoding="utf-8")
    found: list[NutsRegion] = []
    for record in csv.DictReader(io.StringIO(text)):
        code, level = record["code"], int(record["level"])
        if level < 2 or code.endswith("Z"):
            continue
        ref = lookup_region(code)
        if ref is None:  # the reference list and lookup must agree; skip rather than fail
            continue
        found.append(NutsRegion(code, ref.country, level))
    return found


def _money(cents: int) -> float:
    """A whole number of cents as a JSON number with at most two decimals."""
    return round(cents / 100, 2)


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class Generator:
    def __init__(self, activities: int, seed: int = DEFAULT_SEED) -> None:
        self.activities = activities
        self.rng = random.Random(seed)
        self.regions = nuts_regions()
        self.by_country: dict[str, list[NutsRegion]] = {}
        for r in self.regions:
            self.by_country.setdefault(r.country, []).append(r)
        self.organisations = max(10, activities // 10)
        # (identifier, region code) per organisation, to choose participants and regions.
        self.orgs: list[tuple[str, str]] = []
        self.work_items = 0

    # -- header -----------------------------------------------------------------------

    def region_records(self) -> list[dict[str, Any]]:
        """Figures for a sample of NUTS 2 regions (the rest come from the reference)."""
        level2 = [r for r in self.regions if r.level == 2]
        groups = ("innovation leader", "strong innovator", "moderate innovator")
        groups += ("emerging innovator",)
        out = []
        for r in sorted(self.rng.sample(level2, 40), key=lambda r: r.code):
            out.append(
                {
                    "code": r.code,
                    "population": self.rng.randint(300_000, 6_000_000),
                    "gdp_per_head": round(self.rng.uniform(12_000, 70_000), 1),
                    "rd_intensity": round(self.rng.uniform(0.3, 4.5), 2),
                    "scoreboard_group": self.rng.choice(groups),
                    "figures_year": 2022,
                }
            )
        return out

    def organisation_records(self) -> Any:
        rng = self.rng
        for i in range(self.organisations):
            identifier = f"XI-PIC-{100_000_000 + i * 37 + rng.randint(0, 36):09d}"
            region = rng.choice(self.regions)
            kind = _weighted(rng, _ORG_TYPES)
            record: dict[str, Any] = {
                "identifier": identifier,
                "name": f"{rng.choice(_WORDS)} {rng.choice(_ORG_STEMS)} {i}",
                "type": kind,
                "country": region.country,
                "region": region.code,
                "city": rng.choice(_CITIES),
            }
            if rng.random() < 0.2:
                record["identifiers"] = [f"XE-VAT-{region.country}{rng.randint(10**8, 10**9)}"]
            self.orgs.append((identifier, region.code))
            yield record

    def mission_header(self) -> dict[str, Any]:
        rng = self.rng
        objectives = [
            {
                "slug": slug,
                "title": title,
                "description": f"{title} across participating cities.",
                "keywords": [slug.split("-")[0], "cities"],
                "position": n,
                "parent": parent,
            }
            for n, (slug, title, parent) in enumerate(_OBJECTIVES)
        ]
        observed = [r.code for r in rng.sample([r for r in self.regions if r.level == 2], 3)]

        def series(base: float, step: float, regional: bool, periods: bool) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for year in range(2019, 2025):
                out.append(
                    {
                        "date": f"{year}-12-31",
                        "period_start": f"{year}-01-01" if periods else None,
                        "value": round(base + step * (year - 2019) + rng.uniform(-1, 1), 2),
                        "provenance": "Eurostat",
                    }
                )
                if regional:
                    for code in observed:
                        out.append(
                            {
                                "date": f"{year}-12-31",
                                "value": round(base / 10 + step / 10 * (year - 2019), 2),
                                "region": code,
                                "provenance": "national statistics office",
                            }
                        )
            return out

        indicators = [
            {
                "slug": "ghg-emissions",
                "name": "Greenhouse-gas emissions of participating cities",
                "unit": "MtCO2e",
                "direction": "decrease",
                "baseline_value": 120.0,
                "baseline_date": "2019-12-31",
                "target_value": 12.0,
                "target_date": "2030-12-31",
                "objective": "reduce-emissions",
                "source": "EEA",
                "observations": series(120.0, -6.5, regional=True, periods=True),
            },
            {
                "slug": "renewable-share",
                "name": "Renewable share of final energy",
                "unit": "%",
                "direction": "increase",
                "baseline_value": 21.0,
                "baseline_date": "2019-12-31",
                "target_value": 65.0,
                "target_date": "2030-12-31",
                "objective": "energy-transition",
                "observations": series(21.0, 3.2, regional=False, periods=True),
            },
            {
                "slug": "climate-city-contracts-signed",
                "name": "Climate city contracts signed",
                "unit": "contracts",
                "direction": "increase",
                "baseline_value": 0.0,
                "baseline_date": "2021-12-31",
                "target_value": 100.0,
                "target_date": "2030-12-31",
                "observations": series(0.0, 12.0, regional=False, periods=False),
            },
        ]
        return {
            "slug": MISSION_SLUG,
            "title": "100 climate-neutral and smart cities by 2030",
            "statement": "At least 100 European cities climate-neutral by 2030.",
            "challenge": "Cities emit over 70% of CO2 while covering 4% of the land.",
            "owner": "Mission board",
            "level": "international",
            "status": "active",
            # Published, as a public mission dashboard is: the latency benchmarks read it
            # anonymously (the access rules still run on every request).
            "published": True,
            "regions": sorted(self.by_country)[:12],
            "sectors": ["energy", "mobility", "buildings"],
            "start": "2021-09-29",
            "deadline": "2030-12-31",
            "parent": None,
            "objectives": objectives,
            "indicators": indicators,
            "reviews": [],
        }

    def reviews(self) -> list[dict[str, Any]]:
        """Reviews come after activities are known; they refer to the first and a late one."""
        last = self.activities - 1
        return [
            {
                "date": "2023-06-30",
                "title": "Mid-term portfolio review",
                "evidence": "Emissions fell 14% against the 2019 baseline.",
                "decision": "continue",
                "authority": "Mission board",
                "objective": "reduce-emissions",
            },
            {
                "date": "2024-03-15",
                "title": "Scale the lighthouse district pilot",
                "decision": "scale",
                "authority": "Mission board",
                "activity": self.activity_identifier(0),
                "rationale": "Replicable in ten further cities.",
            },
            {
                "date": "2024-09-01",
                "title": "Stop the low-uptake pilot",
                "decision": "stop",
                "authority": "Programme committee",
                "objective": "active-travel",
                "activity": self.activity_identifier(last),
            },
        ]

    # -- activities ----------------------------------------------------------------

    @staticmethod
    def activity_identifier(i: int) -> str:
        return f"101{i:07d}"

    def activity(self, i: int) -> dict[str, Any]:
        rng = self.rng
        partners = rng.sample(self.orgs, rng.randint(1, min(5, len(self.orgs))))
        total = rng.randint(50_000_00, 12_000_000_00)
        public = total * rng.randint(50, 100) // 100
        start = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 8 * 365))
        end = start + dt.timedelta(days=rng.randint(12, 60) * 30)
        today = dt.date(2025, 6, 1)
        status = (
            "planned"
            if start > today
            else "completed"
            if end < today
            else rng.choices(("active", "suspended"), weights=(97, 3))[0]
        )
        stage_at = rng.randrange(len(_STAGES))
        trl_min = rng.randint(1, 7)
        # Participations: the first partner leads; amounts split the public contribution.
        shares = [rng.random() for _ in partners]
        scale = sum(shares)
        people = []
        for n, (identifier, _) in enumerate(partners):
            amount = public * shares[n] / scale if rng.random() < 0.9 else None
            people.append(
                {
                    "organisation": identifier,
                    "role": "lead" if n == 0 else _weighted(rng, _ROLES_AFTER_LEAD),
                    "amount": None if amount is None else _money(int(amount)),
                }
            )
        # Regions: the partners' own, then a random one, 1-3 distinct codes.
        regions: list[str] = []
        for code in [r for _, r in partners] + [rng.choice(self.regions).code]:
            if code not in regions:
                regions.append(code)
        regions = regions[: rng.randint(1, 3)]
        contributions = []
        for slug, _title, _parent in rng.sample(_OBJECTIVES, rng.choice((0, 1, 1, 2, 2, 3))):
            provenance = _weighted(rng, _PROVENANCE)
            contribution: dict[str, Any] = {
                "objective": slug,
                "weight": round(rng.uniform(0.1, 1.0), 2),
                "provenance": provenance,
            }
            if provenance == "suggested":
                contribution["score"] = round(rng.uniform(0.35, 0.99), 3)
            elif provenance == "reviewed":
                contribution["score"] = round(rng.uniform(0.5, 0.99), 3)
                contribution["reviewed_by"] = f"analyst-{rng.randint(1, 12)}"
            contributions.append(contribution)
        work_items = []
        if rng.random() < 0.04:
            for _ in range(rng.randint(1, 3)):
                self.work_items += 1
                tracker = rng.choice(_TRACKERS)
                key = (
                    f"cities/pilots#{self.work_items}"
                    if tracker in ("github", "gitlab")
                    else f"CITY-{self.work_items}"
                )
                work_items.append(
                    {
                        "tracker": tracker,
                        "key": key,
                        "title": f"Follow up deliverable {rng.randint(1, 12)}",
                        "status": rng.choice(("open", "in progress", "done")),
                        "effort": rng.choice((None, 1.0, 2.0, 3.0, 5.0, 8.0)),
                    }
                )
        identifier = self.activity_identifier(i)
        return {
            "identifier": identifier,
            "title": f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.choice(_NOUNS)} {i}",
            "summary": (
                f"Pilots {rng.choice(_WORDS).lower()} {rng.choice(_NOUNS).lower()} in "
                f"{rng.choice(_CITIES)} and replicates them in partner cities."
            ),
            "kind": _weighted(rng, _KINDS),
            "instrument": _weighted(rng, _INSTRUMENTS),
            "stage": _STAGES[stage_at],
            "trl_min": trl_min,
            "trl_max": min(9, trl_min + rng.randint(0, 3)),
            "total_cost": _money(total),
            "public_contribution": _money(public),
            "currency": "EUR",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "status": status,
            "call": f"HORIZON-MISS-{2021 + rng.randint(0, 4)}-CIT-{rng.randint(1, 6):02d}",
            "regions": regions,
            "sectors": rng.sample(_SECTORS, rng.randint(1, 3)),
            "url": f"https://cordis.europa.eu/project/id/{identifier}",
            "organisations": people,
            "contributions": contributions,
            "work_items": work_items,
        }

    # -- writing -------------------------------------------------------------------

    def write(self, out: TextIO, progress: GenProgress | None = None) -> None:
        out.write(f'{{"format":"{FORMAT}","version":{FORMAT_VERSION},\n"regions":[')
        out.write(",".join("\n" + _dumps(r) for r in self.region_records()))
        out.write('\n],\n"organisations":[')
        first = True
        for org in self.organisation_records():
            out.write(("\n" if first else ",\n") + _dumps(org))
            first = False
        out.write('\n],\n"missions":[\n')
        header = self.mission_header()
        header["reviews"] = self.reviews() if self.activities else []
        # Activities come last in a mission, so the header is written open-ended.
        out.write(_dumps(header)[:-1] + ',"activities":[')
        for i in range(self.activities):
            out.write(("\n" if i == 0 else ",\n") + _dumps(self.activity(i)))
            if progress and (i + 1) % 5000 == 0:
                progress(i + 1, self.activities)
        out.write("\n]}\n]}\n")
        if progress:
            progress(self.activities, self.activities)


def generate(
    path: Path,
    activities: int = DEFAULT_ACTIVITIES,
    seed: int = DEFAULT_SEED,
    progress: GenProgress | None = None,
) -> Path:
    """Write a document with ``activities`` activities to ``path``; same seed, same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        Generator(activities, seed).write(out, progress)
    return path


def stderr_progress(label: str) -> Callable[[int, int], None]:
    """A progress callback that rewrites one stderr line at most ~4 times a second."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < 0.25:
            return
        last[0] = now
        share = 100 * done / total if total else 100.0
        end = "\n" if done >= total else ""
        print(f"\r  {label}: {done:,}/{total:,} ({share:.0f}%)", end=end, file=sys.stderr)

    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.activities < 1:
        parser.error("--activities must be at least 1")
    started = time.perf_counter()
    generate(
        args.output,
        args.activities,
        args.seed,
        None if args.quiet else stderr_progress("generating"),
    )
    size = args.output.stat().st_size
    print(
        f"wrote {args.output} ({args.activities:,} activities, {size / 2**20:.1f} MiB) "
        f"in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
