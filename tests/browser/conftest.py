"""A live server and a headless Chromium for the browser tests.

The server is uvicorn in a thread, on a socket bound here to a free port on 127.0.0.1
(bound before the thread starts, so the first request simply waits in the listen queue),
over a temporary SQLite database holding the factories' mission and, when the shared
data sets are present, the real demo missions. Chromium is Debian's ``/usr/bin/chromium``;
Playwright never downloads a browser. Without Chromium these tests skip with the reason,
unless ``MISSIONKIT_REQUIRE_BROWSER=1`` (as in CI), where they fail.

The database has one administrator, ``lead`` (password ``LEAD_PASSWORD``, test-only),
and a published mission, ``open-streets``, that anyone may read; clean-air is
unpublished. The ``page`` fixture signs in as ``lead`` through the sign-in page;
``visitor`` is a page that has not signed in.

Every page gets a route interceptor that lets requests to the live server through and
aborts and records any other request, and collectors of console errors and page errors.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from missionkit.api.app import create_app
from missionkit.api.auth import Limits
from missionkit.services import accounts
from missionkit.services.transfer import import_document
from missionkit.store.db import Database
from missionkit.store.migrate import upgrade
from tests.conftest import SHARED_DATA
from tests.factories import document, variant, write

CHROMIUM = Path(os.environ.get("MISSIONKIT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LEAD = "lead"
LEAD_PASSWORD = "a long browser-test-only passphrase"
PUBLISHED = "open-streets"


def _browser_problem() -> str | None:
    if not CHROMIUM.is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"playwright is not installed ({e}); pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    problem = _browser_problem()
    if problem and os.environ.get("MISSIONKIT_REQUIRE_BROWSER"):
        pytest.fail(f"{problem} (MISSIONKIT_REQUIRE_BROWSER is set, as in CI)")
    if problem:
        pytest.skip(problem)
    return CHROMIUM


def _published_mission() -> dict[str, Any]:
    """A small published mission, readable without signing in (as the demo's are)."""
    doc = variant(document(2))
    doc["organisations"] = []
    mission = doc["missions"][0]
    mission.update(slug=PUBLISHED, title="Open streets for everyone", published=True, reviews=[])
    for n, activity in enumerate(mission["activities"]):
        activity.update(identifier=f"OPEN-{n}", organisations=[], work_items=[])
    return doc


@dataclass
class LiveServer:
    url: str
    host: str
    database: Database
    has_demo: bool


@pytest.fixture(scope="session")
def live_server(
    chromium_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    database = Database(f"sqlite:///{folder / 'live.sqlite'}")
    upgrade(database.engine)
    # The real demo first (when its data is here), so record 1 of each kind is realistic
    # in the screenshots; then the factories' mission the scenarios rely on.
    has_demo = (SHARED_DATA / "eu-adaptation-mission" / "projects.csv").is_file()
    if has_demo:
        from missionkit.demo.build import build_demo_document

        demo = folder / "demo.json"
        demo.write_text(json.dumps(build_demo_document(SHARED_DATA.resolve())), "utf-8")
        import_document(database, demo)
    import_document(database, write(document(30), folder / "factories.json"))
    import_document(database, write(_published_mission(), folder / "published.json"))
    with database.transaction() as session:
        accounts.add_user(session, LEAD, LEAD_PASSWORD, is_admin=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    # Every scenario signs in through the page from 127.0.0.1: more than the default
    # 10 sign-ins a minute per address (that limit has its own tests in tests/web).
    app = create_app(database, Limits(sign_ins_per_minute=1000))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", database, has_demo)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    database.dispose()


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(chromium_path),
            args=["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did that a test may assert on."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def open_context(browser: Any, live_server: LiveServer, viewport: dict[str, int]) -> Any:
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, accept_downloads=True
    )
    context.watch = Watch()

    def route(r: Any) -> None:
        url = r.request.url
        context.watch.requests.append(url)
        parts = urlsplit(url)
        web = parts.scheme in ("http", "https")
        local = parts.scheme in ("data", "blob", "about")
        if (web and parts.netloc == live_server.host) or local:
            r.continue_()
        else:
            context.watch.blocked.append(url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    return context


def watch_page(context: Any) -> Any:
    page = context.new_page()

    def console(message: Any) -> None:
        if message.type == "error":
            context.watch.console_errors.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: context.watch.console_errors.append(f"{page.url}: {e}"))
    return page


@pytest.fixture
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    ctx = open_context(browser, live_server, DESKTOP)
    yield ctx
    ctx.close()


def sign_in(page: Any, username: str = LEAD, password: str = LEAD_PASSWORD) -> None:
    """Through the page, as a person would: the header's link, the form, back to the page."""
    page.get_by_role("link", name="Sign in", exact=True).first.click()
    page.wait_for_url("**/sign-in?**")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {username}").wait_for()


@pytest.fixture
def visitor(context: Any) -> Any:
    """A page that has not signed in."""
    return watch_page(context)


@pytest.fixture
def page(context: Any) -> Any:
    """A page signed in as the administrator ``lead``."""
    signed_in = watch_page(context)
    signed_in.goto("/")
    sign_in(signed_in)
    return signed_in


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def clear_screenshots(folder: Path) -> None:
    """Old screenshots of pages that no longer exist must not linger."""
    for png in folder.glob("*.png"):
        png.unlink()
    shutil.rmtree(folder / "tmp", ignore_errors=True)
