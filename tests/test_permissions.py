"""The permission matrix: every role × every route, generated from the app's route table.

A route that declares no access rule, or that this matrix cannot classify, fails the
suite: adding a route means deciding who may use it. Expectations are written out by
hand below (not derived from ``domain.access``), so a wiring mistake in a route shows.

The matrix runs on SQLite (each case that writes gets its own copy of a prepared
database); the rules' queries run on PostgreSQL in test_access_api.py.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import select

from missionkit.api.app import create_app
from missionkit.api.auth import RouteRule, route_table
from missionkit.services import accounts, experiments, roles, tokens
from missionkit.services.transfer import import_document
from missionkit.store import tables as t
from missionkit.store.db import Database
from missionkit.store.migrate import upgrade
from tests.factories import document, variant, write
from tests.test_experiment_registry import EXPERIMENT
from tests.web.page_cases import page_case

ROLES = ("anonymous", "stranger", "viewer", "contributor", "editor", "owner", "admin")
READERS = {"viewer", "contributor", "editor", "owner", "admin"}
EDITORS = {"editor", "owner", "admin"}
SHARED = {"organisations", "regions"}
PASSWORD = "a long test-only passphrase"


@dataclass
class World:
    """A prepared database: mission clean-air (unpublished) and open-data (published)."""

    path: Path
    headers: dict[str, dict[str, str]]
    ids: dict[str, Any]
    hidden: dict[str, set[Any]]  # resource -> keys of clean-air records


def _prepare(folder: Path) -> World:
    path = folder / "world.sqlite"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    import_document(db, write(document(2), folder / "a.json"))
    other = variant(document(1))
    other["organisations"] = []
    mission = other["missions"][0]
    mission.update(slug="open-data", published=True, reviews=[])
    for a in mission["activities"]:
        a.update(identifier="OPEN-1", organisations=[], work_items=[])
    import_document(db, write(other, folder / "b.json"))
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    with db.transaction() as s:
        a0 = s.scalar(select(t.Activity.id).where(t.Activity.identifier == "A-0"))
        assert a0 is not None
        for role in ROLES[1:]:
            accounts.add_user(s, role, PASSWORD, is_admin=role == "admin")
            if role in ("viewer", "contributor", "editor", "owner"):
                roles.grant(s, role, "clean-air", role)
            secret = tokens.create_token(s, role, "matrix", ["admin"]).secret
            headers[role] = {"Authorization": f"Bearer {secret}"}
        roles.grant(s, "stranger", "open-data", "owner")
        roles.attach(s, "contributor", a0)
        experiment = experiments.create_experiment(s, "clean-air", EXPERIMENT)
        experiments.lock_plan(s, experiment["id"], {"locked_by": "Ana"})
        units = [{"unit": f"u{i}", "stratum": "ab"[i % 2]} for i in range(20)]
        experiments.randomise_units(s, experiment["id"], {"seed": 7, "units": units})
        ids = _ids(s)
        ids["experiment"] = experiment["id"]
        hidden = _hidden(s, ids["mission"])
    db.dispose()
    return World(path, headers, ids, hidden)


def _ids(s: Any) -> dict[str, Any]:
    mission = s.scalar(select(t.Mission.id).where(t.Mission.slug == "clean-air"))

    def one(column: Any, *where: Any) -> Any:
        return s.scalars(select(column).where(*where).order_by(column)).first()

    a0 = one(t.Activity.id, t.Activity.identifier == "A-0")
    return {
        "mission": mission,
        "missions": mission,
        "objectives": one(t.Objective.id, t.Objective.mission_id == mission),
        "indicators": one(t.Indicator.id, t.Indicator.mission_id == mission),
        "observations": one(t.Observation.id),
        "activities": a0,
        "contributions": one(t.Contribution.id, t.Contribution.activity_id == a0),
        "work-items": one(t.WorkItem.id, t.WorkItem.activity_id == a0),
        "reviews": one(t.Review.id, t.Review.mission_id == mission),
        "organisations": one(t.Organisation.id),
        "regions": one(t.Region.code),
        "heating": one(t.Objective.id, t.Objective.slug == "heating"),
    }


def _hidden(s: Any, mission: int) -> dict[str, set[Any]]:
    activities = set(s.scalars(select(t.Activity.id).where(t.Activity.mission_id == mission)))
    indicators = set(s.scalars(select(t.Indicator.id).where(t.Indicator.mission_id == mission)))
    return {
        "missions": {mission},
        "objectives": set(
            s.scalars(select(t.Objective.id).where(t.Objective.mission_id == mission))
        ),
        "indicators": indicators,
        "observations": set(
            s.scalars(select(t.Observation.id).where(t.Observation.indicator_id.in_(indicators)))
        ),
        "activities": activities,
        "contributions": set(
            s.scalars(select(t.Contribution.id).where(t.Contribution.activity_id.in_(activities)))
        ),
        "work-items": set(
            s.scalars(select(t.WorkItem.id).where(t.WorkItem.activity_id.in_(activities)))
        ),
        "reviews": set(s.scalars(select(t.Review.id).where(t.Review.mission_id == mission))),
    }


def _new(resource: str, ids: dict[str, Any]) -> dict[str, Any]:
    """A valid record to create in clean-air (or a shared one)."""
    m = ids["mission"]
    return {
        "missions": {"slug": "brand-new", "title": "New", "start": "2025-01-01",
                     "deadline": "2030-01-01", "regions": [], "sectors": []},
        "objectives": {"mission_id": m, "slug": "new", "title": "New"},
        "indicators": {"mission_id": m, "slug": "new", "name": "New", "unit": "t",
                       "direction": "decrease", "baseline_value": 10,
                       "baseline_date": "2024-01-01", "target_value": 5,
                       "target_date": "2030-01-01"},
        "observations": {"indicator_id": ids["indicators"], "date": "2026-06-30", "value": 30},
        "activities": {"mission_id": m, "identifier": "NEW-1", "title": "New", "regions": [],
                       "sectors": []},
        "contributions": {"activity_id": ids["activities"], "objective_id": ids["heating"],
                          "weight": 0.2},
        "work-items": {"activity_id": ids["activities"], "tracker": "github",
                       "key": "city/buses#99", "title": "New"},
        "reviews": {"mission_id": m, "date": "2026-01-01", "title": "New",
                    "decision": "continue", "authority": "Board"},
        "organisations": {"identifier": "XI-NEW-1", "name": "New", "type": "public"},
        "regions": {"code": "FR10"},
    }[resource]  # fmt: skip


CHANGE = {
    "missions": {"title": "Renamed"},
    "objectives": {"title": "Renamed"},
    "indicators": {"name": "Renamed"},
    "observations": {"value": 31.0},
    "activities": {"title": "Renamed"},
    "contributions": {"weight": 0.3},
    "work-items": {"title": "Renamed"},
    "reviews": {"title": "Renamed"},
    "organisations": {"name": "Renamed"},
    "regions": {"population": 5},
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: dict[str, Any] | None
    allowed: frozenset[str]
    writes: bool
    listing: str | None = None  # the resource a list route returns
    form: bool = False  # the body is sent as an HTML form, not JSON


def _crud_case(path: str, method: str, resource: str, ids: dict[str, Any]) -> Case:
    base = f"/api/{resource}"
    one = f"{base}/{ids[resource]}"
    if method == "GET" and path == base:
        return Case("GET", base, None, frozenset(ROLES), False, listing=resource)
    if method == "GET":
        everyone = resource in SHARED
        return Case("GET", one, None, frozenset(ROLES if everyone else READERS), False)
    if resource in SHARED:
        adders = {"editor", "owner", "stranger", "admin"}
        allowed = adders if method == "POST" else {"admin"}
    elif resource == "missions":
        allowed = {"POST": {"admin"}, "PATCH": EDITORS, "DELETE": {"owner", "admin"}}[method]
    elif resource == "work-items":  # progress on A-0, the contributor's activity
        allowed = EDITORS | {"contributor"}
    else:
        allowed = EDITORS
    body = (
        _new(resource, ids) if method == "POST" else CHANGE[resource] if method == "PATCH" else None
    )
    return Case(method, base if method == "POST" else one, body, frozenset(allowed), True)


MISSION_VIEWS = ("map", "status", "portfolio")


def _experiment_case(path: str, method: str, ids: dict[str, Any]) -> Case:
    concrete = path.replace("{key}", "clean-air").replace("{experiment_id}", str(ids["experiment"]))
    if path in ("/api/experiments/analyze-ab", "/api/experiments/power"):
        return Case(method, path, None, frozenset(ROLES), False)  # calculators
    if method == "GET":
        return Case(method, concrete, None, frozenset(READERS), False)
    body: dict[str, Any] = {}
    if path == "/api/missions/{key}/experiments":
        body = {**EXPERIMENT, "slug": "second"}
    elif path.endswith("/lock"):
        body = {"locked_by": "Ana"}
    elif path == "/api/experiments/{experiment_id}":
        body = {"title": "Renamed"}
    elif path.endswith("/randomise"):
        body = {"seed": 1, "units": [{"unit": "a", "stratum": "x"}, {"unit": "b", "stratum": "x"}]}
    elif path.endswith("/decisions"):
        body = {"decision": "scale", "decided_by": "Board", "decided_on": "2026-06-01",
                "learning": "It worked."}  # fmt: skip
    elif path.endswith("/analyse-panel"):  # the matrix's experiment is an A/B: 409 once allowed
        body = {"rows": [{"unit": u, "time": p, "outcome": 1.0, "treated": 0.0}
                         for u in "ab" for p in (1, 2)]}  # fmt: skip
    elif path.endswith("/analyse"):
        body = {"arms": {"current-criteria": {"n": 10, "successes": 3},
                         "new-criteria": {"n": 10, "successes": 5}}}  # fmt: skip
    return Case(method, concrete, body, frozenset(EDITORS), True)


def _case(path: str, method: str, ids: dict[str, Any]) -> Case:
    """Classify a route; one this function does not know fails the suite."""
    parts = path.strip("/").split("/")
    if path in ("/healthz", "/docs", "/openapi.json"):
        return Case(method, path, None, frozenset(ROLES), False)
    if path == "/api/session":
        body = {"username": "viewer", "password": PASSWORD} if method == "POST" else None
        signed_in = frozenset(ROLES[1:]) if method == "DELETE" else frozenset(ROLES)
        return Case(method, path, body, signed_in, method != "GET")
    if path == "/api/missions/{key}/audit":
        return Case(method, "/api/missions/clean-air/audit", None, frozenset(EDITORS), False)
    if path == "/api/audit":
        return Case(method, path, None, frozenset({"admin"}), False)
    if (parts[0] == "api" and "experiments" in parts) or path.endswith("/learning"):
        return _experiment_case(path, method, ids)
    if path == "/api/missions/{key}/portfolio/{analysis}":
        concrete = "/api/missions/clean-air/portfolio/coverage"
        return Case(method, concrete, None, frozenset(READERS), False)
    if path == "/api/map":  # against the hidden mission's objectives: its readers only
        body = {"text": "Electric buses for clean air", "taxonomy": "mission:clean-air"}
        return Case(method, path, body, frozenset(READERS), False)
    if "suggestions" in parts:
        concrete = path.replace("{key}", "clean-air").replace(
            "{contribution_id}", str(ids["contributions"])
        )
        if method == "GET":
            return Case(method, concrete, None, frozenset(READERS), False)
        return Case(method, concrete, {}, frozenset(EDITORS), True)
    if len(parts) == 4 and parts[:2] == ["api", "missions"] and parts[3] in MISSION_VIEWS:
        return Case(method, f"/api/missions/clean-air/{parts[3]}", None, frozenset(READERS), False)
    if parts[0] == "api" and parts[1] in CHANGE and len(parts) <= 3:
        return _crud_case(path, method, parts[1], ids)
    page = page_case(path, method, ids)
    if page is not None:
        return Case(
            method,
            page.path,
            page.form,
            page.allowed,
            page.writes,
            listing="missions" if page.listing else None,
            form=True,
        )
    raise AssertionError(f"{method} {path}: add this route to the permission matrix")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _prepare(tmp_path_factory.mktemp("matrix"))


def _routes(world: World) -> list[RouteRule]:
    database = Database(f"sqlite:///{world.path}")
    table = route_table(create_app(database))
    database.dispose()
    return table


def test_every_route_declares_an_access_rule(world: World) -> None:
    missing = [f"{r.method} {r.path}" for r in _routes(world) if r.rule is None]
    assert missing == []


def test_a_route_without_a_rule_is_refused_to_everyone(world: World) -> None:
    app = create_app(Database(f"sqlite:///{world.path}"))
    extra = APIRouter()

    @extra.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "data"}

    app.include_router(extra)
    client = TestClient(app)
    for role in ("anonymous", "admin"):
        response = client.get("/api/forgotten", headers=world.headers[role])
        assert response.status_code == 403 and "declares no access rule" in response.text


def test_every_role_on_every_route(world: World, tmp_path: Path) -> None:
    """Allowed: anything but 401/403/404 from the rules. Denied: 401, 403 or 404."""
    wrong: list[str] = []
    cases = [(_case(r.path, r.method, world.ids), r) for r in _routes(world)]
    assert len(cases) >= 50, "the route table looks too small to be the whole app"
    scratch = tmp_path / "scratch.sqlite"
    database = Database(f"sqlite:///{scratch}")
    client = TestClient(create_app(database))

    def restore() -> None:
        """Back to the prepared world (a refused write changes nothing, so only a request
        that was let through uses it up)."""
        database.engine.dispose()
        shutil.copy(world.path, scratch)

    restore()
    for case, _route in cases:
        for role in ROLES:
            body = {"data": case.body} if case.form else {"json": case.body}
            response = client.request(
                case.method, case.path, headers=world.headers[role], follow_redirects=False, **body
            )
            denied = response.status_code in (401, 403, 404)
            if denied == (role in case.allowed):
                wrong.append(f"{role:<11} {case.method:<6} {case.path}: {response.status_code}")
            if case.writes and not denied:
                restore()
            if case.listing and role in ("anonymous", "stranger") and response.status_code == 200:
                leaked = _leaks(case.listing, response, world)
                if leaked:
                    wrong.append(f"{role} sees clean-air {case.listing} {leaked} in {case.path}")
    assert wrong == [], "\n".join(wrong)


def _leaks(resource: str, response: Any, world: World) -> set[Any]:
    if response.headers["content-type"].startswith("text/html"):
        return {"clean-air"} if "clean-air" in response.text else set()
    hidden = world.hidden.get(resource, set())
    return {item["id"] for item in response.json()["items"] if item.get("id") in hidden}
