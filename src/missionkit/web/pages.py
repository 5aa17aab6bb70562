"""The pages; for now the mission index that links to each mission's JSON."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from missionkit import __version__
from missionkit.services import overview

_templates = Environment(
    loader=PackageLoader("missionkit.web", "templates"), autoescape=select_autoescape()
)


def missions_index(
    request: Request, session: Session, readable: Collection[int] | None = None
) -> HTMLResponse:
    missions = overview.mission_tree(session, readable)
    html = _templates.get_template("index.html").render(
        missions=missions, today=date.today(), version=__version__
    )
    return HTMLResponse(html)
