"""The web pages' rows of the permission matrix (tests/test_permissions.py).

``page_case`` classifies one page route: the concrete path to request, the form body
(None for GET), the roles that must be let through, and whether the request writes.
Roles: anonymous, stranger (owner of another mission), viewer, contributor, editor, owner,
admin. ``ids`` holds the prepared world's record ids (see ``_ids`` there). Return None for
a route this function does not know: the matrix then fails, naming it.

The expectations are written out here by hand, from docs/access.md ("Web pages"), not
derived from ``domain.access``: clean-air is unpublished, so only its members and the
administrator may see its pages; editing takes an editor; observations take the "report"
action, which a contributor has only for attached activities (an indicator has none);
a new top-level mission takes an administrator.
"""

from __future__ import annotations

from typing import Any, NamedTuple

EVERYONE = frozenset({"anonymous", "stranger", "viewer", "contributor", "editor", "owner", "admin"})
SIGNED_IN = EVERYONE - {"anonymous"}
READERS = frozenset({"viewer", "contributor", "editor", "owner", "admin"})
EDITORS = frozenset({"editor", "owner", "admin"})


class PageCase(NamedTuple):
    path: str
    form: dict[str, str] | None
    allowed: frozenset[str]
    writes: bool
    listing: bool = False  # an HTML page that must not name the unpublished mission


MISSION_FORM = {
    "title": "Brand new",
    "slug": "brand-new",
    "level": "national",
    "status": "active",
    "start": "2025-01-01",
    "deadline": "2030-01-01",
}

CHILD_FORMS = {
    "objectives": {"title": "New objective", "slug": "new-objective"},
    "indicators": {
        "name": "New indicator", "slug": "new-indicator", "unit": "t", "method": "statcan",
        "direction": "decrease", "baseline_value": "10", "baseline_date": "2024-01-01",
        "target_value": "5", "target_date": "2030-01-01",
    },
    "activities": {"identifier": "NEW-1", "title": "New activity", "kind": "project",
                   "instrument": "grant", "status": "active", "currency": "EUR"},
}  # fmt: skip

CHANGES = {
    "objectives": {"title": "Renamed", "slug": "renamed"},
    "indicators": CHILD_FORMS["indicators"] | {"name": "Renamed"},
    "activities": CHILD_FORMS["activities"] | {"identifier": "A-0", "title": "Renamed"},
}

MISSION_VIEWS = {"findings": "findings", "report": "report", "report.{kind}": "report.xlsx",
                 "map": "map", "portfolio": "portfolio", "portfolio.csv": "portfolio.csv",
                 "portfolio.xlsx": "portfolio.xlsx"}  # fmt: skip


def page_case(path: str, method: str, ids: dict[str, Any]) -> PageCase | None:
    get = method == "GET"
    form: dict[str, str] | None
    parts = path.strip("/").split("/")
    if path in ("/favicon.ico", "/static/web/{name}"):
        return PageCase(path.replace("{name}", "missionkit.css"), None, EVERYONE, False)
    if path == "/sign-in":
        if get:
            return PageCase(path, None, EVERYONE, False)
        # Without the form's pre-session token (double-submit cookie) a sign-in is refused
        # (403); a signed-in caller's own credentials already vouch for the request.
        credentials = {"username": "viewer", "password": "a long test-only passphrase"}
        return PageCase(path, credentials, SIGNED_IN, True)
    if path == "/sign-out":
        return PageCase(path, {}, SIGNED_IN, True)
    if path == "/":
        return PageCase(path, None, EVERYONE, False, listing=True)
    if path == "/organisations/{record_id}":
        concrete = f"/organisations/{ids['organisations']}"
        return PageCase(concrete, None, EVERYONE, False, listing=True)
    if path == "/missions/new":
        # The form: an administrator, or an owner (who may add a sub-mission to theirs);
        # a top-level mission: administrators only.
        if get:
            return PageCase(path, None, frozenset({"admin", "owner", "stranger"}), False)
        return PageCase(path, MISSION_FORM, frozenset({"admin"}), True)
    if path == "/missions/{key}":
        return PageCase("/missions/clean-air", None, READERS, False)
    if parts[:2] == ["missions", "{key}"] and len(parts) == 3 and parts[2] in MISSION_VIEWS:
        return PageCase(f"/missions/clean-air/{MISSION_VIEWS[parts[2]]}", None, READERS, False)
    if parts[:3] == ["missions", "{key}", "suggestions"]:
        # The review queue: its readers see it; suggesting again, accepting and rejecting
        # take an editor (as the API's review routes).
        if len(parts) == 3 and get:
            return PageCase("/missions/clean-air/suggestions", None, READERS, False)
        concrete = path.replace("{key}", "clean-air").replace(
            "{contribution_id}",
            str(ids["contributions"]),  # a suggested one
        )
        note = {"note": "not this one"} if parts[-1] == "reject" else {}
        return PageCase(concrete, note, EDITORS, True)
    experiment = _experiment_case(path, get, ids)
    if experiment is not None:
        return experiment
    if path == "/missions/{key}/edit":
        form = None if get else MISSION_FORM | {"title": "Renamed", "slug": "clean-air"}
        return PageCase("/missions/clean-air/edit", form, EDITORS, not get)
    if len(parts) == 4 and parts[:2] == ["missions", "{key}"] and parts[3] == "new":
        form = None if get else CHILD_FORMS[parts[2]]
        return PageCase(f"/missions/clean-air/{parts[2]}/new", form, EDITORS, not get)
    if len(parts) >= 2 and parts[0] in CHILD_FORMS and parts[1] == "{record_id}":
        concrete = f"/{parts[0]}/{ids[parts[0]]}"
        if len(parts) == 2:
            return PageCase(concrete, None, READERS, False)
        if parts[2] == "edit":
            form = None if get else CHANGES[parts[0]]
            return PageCase(f"{concrete}/edit", form, EDITORS, not get)
        if parts[2] == "observations" and not get:
            value = {"mode": "single", "date": "2026-06-30", "value": "30"}
            return PageCase(f"{concrete}/observations", value, EDITORS, True)
    return None


EXPERIMENT_FORM = {
    "title": "Second pilot", "slug": "second-pilot", "question": "Does it work?",
    "stage": "process", "design": "ab", "unit": "proposal", "arms": "old\nnew",
    "primary_metric": "shortlisted", "primary_kind": "proportion",
}  # fmt: skip

EXPERIMENT_POSTS = {
    "edit": EXPERIMENT_FORM | {"title": "Renamed"},
    "lock": {"locked_by": "Ana"},
    "randomise": {"seed": "1", "units": "a,x\nb,x"},  # already randomised: 409
    "results": {"mode": "text", "kind": "summary",
                "data": "current-criteria,10,3\nnew-criteria,10,5"},
    "decisions": {"decision": "scale", "decided_by": "Board", "decided_on": "2026-06-01",
                  "learning": "It worked."},
}  # fmt: skip


def _experiment_case(path: str, get: bool, ids: dict[str, Any]) -> PageCase | None:
    """The experiment pages (web/experiments.py): read on the mission to see them; every
    form, and every POST, takes an editor (as the API's experiment routes)."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["missions", "{key}", "experiments"]:
        concrete = path.replace("{key}", "clean-air")
        if len(parts) == 3:
            return PageCase(concrete, None, READERS, False)
        return PageCase(concrete, None if get else EXPERIMENT_FORM, EDITORS, not get)
    if parts[:2] != ["experiments", "{experiment_id}"]:
        return None
    concrete = path.replace("{experiment_id}", str(ids["experiment"]))
    if len(parts) == 2:
        return PageCase(concrete, None, READERS, False)
    if get:
        return PageCase(concrete, None, EDITORS, False)
    return PageCase(concrete, EXPERIMENT_POSTS[parts[2]], EDITORS, True)
