"""What every page module shares: the access rules, the actor, reads and the form cycle.

One ``PageContext`` is bound to the database the app serves; each page module takes it
and adds its routes. No SQL here either: reads and writes go through the services.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from missionkit.api.auth import actor_of, rule
from missionkit.domain.access import Action, Actor, Target, decide
from missionkit.domain.problems import InvalidInput, Problem
from missionkit.services import access, cockpit, maps, records
from missionkit.services import forms as form_service
from missionkit.services.catalogue import MISSIONS
from missionkit.services.errors import NotFound, StaleVersion
from missionkit.services.records import Resource
from missionkit.store.db import Database
from missionkit.web import charts, pages
from missionkit.web.forms import Field, FormState, field_errors, to_payload

MAX_FORM_BYTES = 2 * 1024 * 1024  # a pasted CSV of observations fits many times over

PUBLIC = rule("public")
READ = rule("read")
LIST = rule("list")
WRITE = rule("write")
SIGNED_IN = rule("signed-in")

Check = Callable[[Session, dict[str, Any]], None]
"""The rules on a payload about to be written, run in the transaction that writes it."""


def web_actor(request: Request) -> Actor:
    """The request's actor; the audit trail names the pages as the interface, even for a
    script that sends its API token to a page."""
    actor = actor_of(request)
    return actor if actor.interface == "web" else dataclasses.replace(actor, interface="web")


def may(actor: Actor, action: Action, where: Target) -> bool:
    """For showing or hiding a link; the handler behind it asks again."""
    return decide(actor, action, where).allowed


def managed(actor: Actor) -> frozenset[int] | None:
    """Missions under which ``actor`` may create a sub-mission (None: all)."""
    if actor.is_admin and actor.token_mission is None:
        return None
    return frozenset(m for m, role in actor.roles.items() if may(actor, "manage", Target(m, False)))


def guarded(handler: Callable[[], Response]) -> Response:
    """Missing and hidden records give the same 404 page (no leak of existence)."""
    try:
        return handler()
    except NotFound as e:
        raise NotFound(pages.HIDDEN) from e


async def submitted(request: Request) -> dict[str, str]:
    """The form's fields (``enforce`` has parsed the form already, for its CSRF token);
    the pages post ``application/x-www-form-urlencoded`` only."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return {}
    form = await request.form()
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def form_page(
    request: Request,
    *,
    title: str,
    action: str,
    state: FormState,
    back: str,
    status_code: int = 200,
    version: int | None = None,
    submit: str = "Save",
    mission: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    return pages.render(
        request,
        "form.html",
        status_code,
        title=title,
        action=action,
        form=state,
        back=back,
        version=version,
        submit=submit,
        mission=mission,
    )


def choices_of(pairs: Sequence[tuple[int, str]], none_label: str) -> Sequence[tuple[str, str]]:
    return [("", none_label), *((str(i), title) for i, title in pairs)]


def indicator_chart(card: Mapping[str, Any], chart_id: str, deadline: dt.date | None) -> str:
    """An indicator card as an SVG chart: whole-area observations, baseline, target, path."""
    whole = [o for o in card["observations"] if o["region"] is None]
    a = card["assessment"]
    baseline = (charts.decimal_year(card["baseline_date"]), card["baseline_value"])
    # The path starts where the assessment starts (its base point), as the method does.
    if a.get("base_year") is not None and a.get("base_value") is not None:
        baseline = (a["base_year"], a["base_value"])
    target = None
    if card["target_value"] is not None and card["target_date"] is not None:
        target = (charts.decimal_year(card["target_date"]), card["target_value"])
    forecast = None
    f = a.get("forecast")
    if f and all(f.get(k) is not None for k in ("year", "value", "low", "high")):
        forecast = (f["year"], f["value"], f["low"], f["high"])
    end = card["target_date"] or deadline
    return charts.indicator_svg(
        charts.IndicatorChart(
            name=card["name"],
            unit=card["unit"],
            observations=[(charts.decimal_year(o["date"]), o["value"]) for o in whole],
            baseline=baseline,
            target=target,
            deadline=charts.decimal_year(end) if end else None,
            status=card["status"],
            compound_path=card["method"] == "statcan",
            forecast=forecast,
        ),
        chart_id,
    )


@dataclasses.dataclass(frozen=True)
class PageContext:
    """The database the pages read and write, and the access questions they ask of it."""

    database: Database

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.database.reading() as session:
            yield session

    def readable(self, session: Session, actor: Actor) -> frozenset[int] | None:
        return access.readable_missions(session, actor)

    def mission_header(
        self, session: Session, actor: Actor, mission_id: int, today: dt.date
    ) -> dict[str, Any]:
        """The mission's header for a page (its parent only where ``actor`` may read it)."""
        return cockpit.mission_header(session, mission_id, today, self.readable(session, actor))

    def mission_for(self, session: Session, actor: Actor, key: str | int, action: Action) -> int:
        """The mission's id if ``actor`` may do ``action`` on it (404 when hidden)."""
        mission_id = maps.mission_id_for(session, key)
        access.require(actor, action, access.target(session, mission_id), "mission")
        return mission_id

    def record_for(
        self, session: Session, actor: Actor, res: Resource, key: int, action: Action
    ) -> Any:
        record = records.get(session, res, key)
        access.require(actor, action, access.record_target(session, res, record), res.label)
        return record

    def mission_rights(self, session: Session, actor: Actor, mission_id: int) -> dict[str, bool]:
        where = access.target(session, mission_id)
        actions: tuple[Action, ...] = ("report", "edit", "audit", "manage")
        return {a: may(actor, a, where) for a in actions}

    def save_form(
        self,
        *,
        actor: Actor,
        res: Resource,
        fields: Sequence[Field],
        form: dict[str, str],
        fixed: dict[str, Any],
        key: Any,
        check: Check,
        done: Callable[[dict[str, Any]], str],
        again: Callable[[FormState, int | None], HTMLResponse],
        choices: dict[str, Sequence[tuple[str, str]]],
    ) -> Response:
        """Check the rules on what is about to be written (``check``), then save it as
        ``actor`` in the same transaction, so the audit entry names them."""
        model: type[BaseModel] = res.create
        payload = to_payload(fields, model, form, editing=key is not None) | fixed
        version = int(form["version"]) if form.get("version", "").isdigit() else None
        try:
            with self.database.transaction() as session:
                check(session, payload)
                saved = form_service.save(session, res, payload, key, version, actor=actor)
                if res is MISSIONS and key is None:
                    access.grant_creator(session, actor, saved["id"])
        except InvalidInput as e:
            state = FormState(fields, form, field_errors(e.problems, fields, form), choices)
            return again(state, version)
        except StaleVersion as e:
            problem = Problem(
                "",
                f"Someone else saved this record while you edited it (now version "
                f"{e.actual}). Your changes are kept below; check them and save again.",
            )
            state = FormState(fields, form, field_errors([problem], fields, form), choices)
            return again(state, e.actual)
        return RedirectResponse(done(saved), status_code=303)
