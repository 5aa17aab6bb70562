"""The web pages' rows of the permission matrix (tests/test_permissions.py).

``page_case`` classifies one page route: the concrete path to request, the form body
(None for GET), the roles that must be let through, and whether the request writes.
Roles: anonymous, stranger (owner of another mission), viewer, contributor, editor, owner,
admin. ``ids`` holds the prepared world's record ids (see ``_ids`` there). Return None for
a route this function does not know: the matrix then fails, naming it.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class PageCase(NamedTuple):
    path: str
    form: dict[str, str] | None
    allowed: frozenset[str]
    writes: bool
    listing: bool = False  # an HTML page that must not name the unpublished mission


def page_case(path: str, method: str, ids: dict[str, Any]) -> PageCase | None:
    return None
