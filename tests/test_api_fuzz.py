"""The API fuzzed from its own OpenAPI schema (schemathesis + hypothesis) by a signed-in
user who owns one mission: no request may cause a server error, and no response may carry
anything of another, unpublished mission.

The unpublished mission's texts carry a marker; any response that contains it is a leak.
Examples are derandomised so that CI runs the same requests every time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missionkit.api.app import create_app
from missionkit.services import accounts, roles, tokens
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from missionkit.store.migrate import upgrade
from tests.factories import document, variant, write

MARKER = "zq-secret-7f3a"
EXAMPLES = 12


def _world(folder: Path) -> tuple[Database, dict[str, str]]:
    db = Database(f"sqlite:///{folder / 'fuzz.sqlite'}")
    upgrade(db.engine)
    hidden = variant(document(2))
    mission = hidden["missions"][0]
    mission["statement"] = f"Unpublished statement {MARKER}"
    mission["title"] = f"Clean air {MARKER}"
    for o in mission["objectives"]:
        o["title"] = f"{o['title']} {MARKER}"
    for a in mission["activities"]:
        a["title"] = f"{a['title']} {MARKER}"
    import_document(db, write(hidden, folder / "hidden.json"))
    mine = variant(document(1))
    mine["organisations"] = []
    mine["missions"][0].update(slug="open-data", published=True, reviews=[])
    for a in mine["missions"][0]["activities"]:
        a.update(identifier="OPEN-1", organisations=[], work_items=[])
    import_document(db, write(mine, folder / "mine.json"))
    with db.transaction() as s:
        accounts.add_user(s, "fuzzer", "a long test-only passphrase")
        roles.grant(s, "fuzzer", "open-data", "owner")
        secret = tokens.create_token(s, "fuzzer", "fuzz", ["write"]).secret
    return db, {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str]]:
    db, headers = _world(tmp_path_factory.mktemp("fuzz"))
    app = create_app(db)
    return schemathesis.openapi.from_asgi("/openapi.json", app), headers


def test_no_server_error_and_no_leak_on_any_operation(fuzz: tuple[Any, dict[str, str]]) -> None:
    schema, headers = fuzz
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50, "the schema should list every API operation"
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), _=st.just(None))
        def run(case: Any, _: None) -> None:
            response = case.call(headers=headers)
            calls.append(response.status_code)
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"server error: {where}: {response.text[:200]}")
            if MARKER in response.text:
                failures.append(f"leak: {where}")

        run()
    assert failures == [], "\n".join(sorted(set(failures))[:30])
    assert len(calls) >= 3 * len(operations), "too few requests to call this a fuzz run"
    assert {200, 201} & set(calls) and {404, 422} <= set(calls), "both kinds of answer seen"
