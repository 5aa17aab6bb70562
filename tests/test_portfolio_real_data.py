"""The portfolio engine on real data: the EU Mission "Adaptation to Climate Change" projects
(../shared/data/eu-adaptation-mission, read with the CORDIS connector).

The data has no objective mapping and names only each project's coordinator, so the test
maps every project to the data author's own ``category`` tag (one manual contribution of
weight 1 each) and the network has one organisation per project. Populations are rounded
1 January 2023 figures (Eurostat demo_pjan; UK: ONS mid-2022; others: national offices),
in millions, good enough for shares; groups are the European Innovation Scoreboard 2023
groups for EU members and "non-EU" for the rest.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from missionkit.portfolio import (
    Portfolio,
    activity_network,
    coherence,
    coverage,
    coverage_matrix,
    directionality,
    diversity,
    headline_findings,
    spatial_equity,
    stage_balance,
)

FOLDER = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "eu-adaptation-mission"
pytestmark = pytest.mark.skipif(
    not (FOLDER / "projects.csv").exists(), reason=f"real data not present at {FOLDER}"
)

POPULATION_M = {
    "AT": 9.10, "BE": 11.74, "BG": 6.45, "CY": 0.92, "CZ": 10.83, "DE": 84.36, "DK": 5.93,
    "EE": 1.37, "ES": 48.06, "FI": 5.56, "FR": 68.17, "GR": 10.41, "HR": 3.85, "HU": 9.60,
    "IE": 5.27, "IT": 58.99, "LT": 2.86, "LU": 0.66, "LV": 1.88, "MT": 0.54, "NL": 17.81,
    "PL": 36.75, "PT": 10.47, "RO": 19.05, "SE": 10.55, "SI": 2.12, "SK": 5.43,
    "AD": 0.08, "AL": 2.76, "CH": 8.81, "CV": 0.60, "GB": 67.60, "IS": 0.39, "MK": 1.83,
    "NO": 5.49, "RS": 6.66, "TR": 85.28,
}  # fmt: skip
EIS_2023 = {
    "innovation leader": "BE DK FI NL SE",
    "strong innovator": "AT CY DE EE FR IE LU",
    "moderate innovator": "CZ ES GR HU IT LT MT PT SI",
    "emerging innovator": "BG HR LV PL RO SK",
}
GROUP = {code: group for group, codes in EIS_2023.items() for code in codes.split()}
STAGE_BY_ACTION = {"RIA": "research", "IA": "demonstration", "CSA": "diffusion"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _rows() -> list[dict[str, str]]:
    with (FOLDER / "projects.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def real() -> Portfolio:
    from missionkit.connectors.cordis import read_cordis

    parts = read_cordis(FOLDER)
    category = {
        "cordis:" + re.findall(r"/project/id/(\d+)", r["Project id"])[0]: r["category"].strip()
        for r in _rows()
    }
    activities: list[dict[str, Any]] = []
    for doc in parts.activities:
        tag = category[doc["identifier"]]
        link = {"objective": _slug(tag), "weight": 1.0, "provenance": "manual"}
        activities.append({**doc, "contributions": [link]})
    objectives = [{"slug": _slug(c), "title": c} for c in sorted(set(category.values()))]
    regions = [
        {"code": code, "population": people * 1e6, "group": GROUP.get(code, "non-EU")}
        for code, people in POPULATION_M.items()
    ]
    return Portfolio.from_documents(activities, objectives, regions)


def test_every_project_once_and_the_budget_adds_up(real: Portfolio) -> None:
    rows = _rows()
    csv_total = sum(
        Decimal(r["EU financial contribution (euro)"]).quantize(Decimal("0.01")) for r in rows
    )
    assert real.activities.height == len(rows) == 46
    assert real.activities.get_column("id").n_unique() == 46
    assert real.total_budget == pytest.approx(float(csv_total), abs=0.01)
    cov = coverage(real)
    assert sum(o.activities for o in cov.objectives) == 46  # one category per project
    assert sum(o.budget for o in cov.objectives) == pytest.approx(real.total_budget)
    assert cov.unmapped_activities == () and cov.uncovered_objectives == ()
    matrix = coverage_matrix(real, "objective", "instrument")
    assert sum(c.budget for c in matrix.cells) == pytest.approx(real.total_budget)
    by_region = coverage_matrix(real, "region", "stage")
    assert sum(c.budget for c in by_region.cells) == pytest.approx(real.total_budget)


def test_directionality_and_stage_balance(real: Portfolio) -> None:
    assert directionality(real).share == pytest.approx(1.0)  # every link manual, weight 1
    balance = stage_balance(real)
    counts = Counter(STAGE_BY_ACTION[r["Type of Action"].removeprefix("HORIZON-")] for r in _rows())
    assert {s.stage: s.activities for s in balance.portfolio.stages if s.activities} == counts
    assert sum(s.budget for s in balance.portfolio.stages) == pytest.approx(real.total_budget)
    assert balance.portfolio.no_deployment  # Horizon RIA/IA/CSA never map to deployment


def test_spatial_equity_at_country_level(real: Portfolio) -> None:
    s = spatial_equity(real, "country", group_by="group")
    assert s.attributed_budget + sum(s.unattributed.values()) == pytest.approx(real.total_budget)
    assert set(s.unattributed) <= {"no region listed"}
    assert {r.code for r in s.regions} == set(POPULATION_M)
    assert s.theil is not None and s.gini is not None
    assert s.theil.between + s.theil.within == pytest.approx(s.theil.total)
    assert 0 < s.gini < 1
    assert sum(r.funding_share for r in s.regions) == pytest.approx(1.0)


def test_collaboration_network(real: Portfolio) -> None:
    c = coherence(real)
    graph = activity_network(real)
    assert c.activity_network.nodes == 46
    assert c.participations == 46  # the coordinator is the only participation in the data
    assert c.activity_network.components == nx.number_connected_components(graph)
    assert len(c.isolated_activities) == sum(1 for _ in nx.isolates(graph))


def test_diversity_and_findings_run(real: Portfolio) -> None:
    sectors = diversity(real, "sector").portfolio
    assert sectors.shannon is not None and sectors.effective_number is not None
    assert sum(sectors.shares.values()) == pytest.approx(1.0)
    texts = headline_findings(real, spatial=spatial_equity(real, "country"))
    assert texts and all(isinstance(t, str) and t.endswith(".") for t in texts)
