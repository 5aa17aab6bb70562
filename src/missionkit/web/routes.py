"""The web pages: a router of thin handlers, each one service call and one template.

No SQL here: reads come from the services (cockpit, explorer, maps, progress, portfolio),
writes go through ``services.forms`` (and the review queue's through ``services.mapping``)
to the same records and rules as the API. Forms follow post/redirect/get; a refused
form is shown again with what was typed and each problem next to its field (status 422).

One module per page family: ``session`` (static files, signing in and out), ``missions``
(list, cockpit, findings, report, map, mission forms), ``explorer`` (portfolio explorer
and exports), ``records`` (record pages and forms) and ``review`` (the queue of suggested
contributions) and ``experiments`` (the experiment registry: register, lock, randomise,
analyse, decide); ``editing`` holds the one generic create/edit form cycle, ``context``
what they all share.
"""

from __future__ import annotations

from fastapi import APIRouter

from missionkit.store.db import Database
from missionkit.web.context import PageContext
from missionkit.web.experiments import experiments_router
from missionkit.web.explorer import explorer_router
from missionkit.web.missions import mission_router
from missionkit.web.records import record_router
from missionkit.web.review import review_router
from missionkit.web.session import session_router, static_router


def pages_router(database: Database) -> APIRouter:
    """Every page, bound to one database (as ``create_app`` binds the API).

    Each route declares its access rule like the API's; handlers ask ``services.access``
    about the mission or record they show or change, and refusals become pages
    (``web/pages.py``, through ``api/errors.py``).
    """
    ctx = PageContext(database)
    router = APIRouter(include_in_schema=False)
    for family in (
        static_router(),
        session_router(database),
        mission_router(ctx),
        explorer_router(ctx),
        record_router(ctx),
        review_router(ctx),
        experiments_router(ctx),
    ):
        router.include_router(family)
    return router
