"""The pages in a real headless Chromium: forms, charts, explorer, accessibility, offline.

Each scenario is what a mission lead does on a Monday morning; the checks are what they
would see. Screenshots of the main pages (desktop and phone width) go to docs/screenshots.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DESKTOP,
    LEAD,
    LEAD_PASSWORD,
    PHONE,
    PUBLISHED,
    LiveServer,
    open_context,
    sign_in,
    watch_page,
)

SERIOUS = ("serious", "critical")
MAX_SHOT = 3000  # px: long pages are cut, the top is what a reviewer needs


def _axe_serious(page: Any) -> list[str]:
    """axe-core (bundled in axe-playwright-python, injected from disk) on the open page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def _fill(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        control = page.locator(f"#f-{name}")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


MISSION_FORM = {
    "title": "Quiet streets by 2032",
    "slug": "quiet-streets",
    "statement": "Halve the people exposed to night-time road noise above 55 dB by 2032.",
    "level": "local",
    "start": "2024-01-01",
    "deadline": "2032-12-31",
    "regions": "DE300",
    "sectors": "transport, health",
}


def test_create_a_mission_through_the_forms(visitor: Any) -> None:
    page = visitor
    page.goto("/")
    assert page.get_by_role("link", name="New mission").count() == 0  # sign in first
    sign_in(page)
    assert page.url.endswith("/")  # back where the sign-in started
    page.get_by_role("link", name="New mission").click()
    _fill(page, MISSION_FORM)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/missions/quiet-streets")
    assert page.get_by_role("heading", level=1).inner_text() == "Quiet streets by 2032"
    assert "Halve the people exposed" in page.locator(".lead").inner_text()
    page.goto("/")
    assert page.get_by_role("link", name="Quiet streets by 2032").count() == 1


def test_an_invalid_form_shows_the_error_beside_the_field(page: Any) -> None:
    page.goto("/missions/new")
    _fill(page, {**MISSION_FORM, "slug": "Not A Slug", "deadline": "2020-01-01"})
    page.get_by_role("button", name="Save").click()
    deadline = page.locator("#f-deadline")
    error = page.locator("#f-deadline-error")
    assert error.is_visible() and "must be after the start 2024-01-01" in error.inner_text()
    assert deadline.get_attribute("aria-invalid") == "true"
    assert "f-deadline-error" in (deadline.get_attribute("aria-describedby") or "")
    # The error sits in the deadline's own field group, right above its input.
    field = page.locator(".field", has=deadline)
    assert field.locator(".field-error").inner_text() == error.inner_text()
    assert page.locator("#f-slug-error").is_visible()
    # Nothing typed is lost.
    assert page.locator("#f-title").input_value() == MISSION_FORM["title"]
    assert page.locator("#f-statement").input_value() == MISSION_FORM["statement"]
    assert page.locator("#f-sectors").input_value() == "transport, health"
    assert _axe_serious(page) == []
    # The summary's link takes the keyboard to the field.
    page.locator(".error-summary a", has_text="Deadline").click()
    assert page.evaluate("document.activeElement.id") == "f-deadline"


def test_indicator_and_observations_change_the_chart_and_status(page: Any) -> None:
    page.goto("/missions/new")
    _fill(page, {**MISSION_FORM, "slug": "cool-schools", "title": "Cool schools"})
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/missions/cool-schools")
    page.get_by_role("link", name="Add indicator").click()
    _fill(
        page,
        {
            "name": "Schools with shaded playgrounds",
            "slug": "shaded",
            "unit": "%",
            "direction": "increase",
            "baseline_value": "10",
            "baseline_date": "2023-12-31",
            "target_value": "80",
            "target_date": "2030-12-31",
            "natural_limit": "100",
        },
    )
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/indicators/\d+$"))
    status = page.locator("#indicator-status")
    assert "Insufficient data" in status.inner_text()
    assert page.locator("svg.chart .latest").count() == 0
    # One value through the single form…
    page.locator("#obs-date").fill("2024-12-31")
    page.locator("#obs-value").fill("20")
    page.get_by_role("button", name="Add observation").click()
    page.wait_for_url(re.compile(r".*#observations$"))
    # …then two more pasted as CSV.
    page.locator("#obs-csv").fill("date,value\n2025-06-30,30\n2025-12-31,42\n")
    page.get_by_role("button", name="Add these observations").click()
    page.wait_for_url(re.compile(r".*#observations$"))
    assert "On track" in status.inner_text()
    assert page.locator("svg.chart circle.latest").count() == 1  # on track: a circle
    assert page.locator("svg.chart circle.observed").count() == 2
    assert page.locator("#observations ~ .table-wrap tbody tr").count() == 3
    label = page.locator("svg.chart desc").text_content() or ""
    assert "Latest 42 % in 2025." in label and "Status: on track." in label
    # The cockpit shows the same card and status.
    page.goto("/missions/cool-schools")
    card = page.locator("article.card", has_text="Schools with shaded playgrounds")
    assert "On track" in card.locator(".badge").first.inner_text()


def test_filter_the_explorer_and_download_the_csv(page: Any, tmp_path: Path) -> None:
    page.goto("/missions/clean-air/portfolio")
    assert "30" in page.locator("#result-count").inner_text()
    page.locator("#f-instrument").select_option("procurement")
    page.locator("#f-q").fill("pilot")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*instrument=procurement.*"))
    count = int(page.locator("#result-count strong").inner_text())
    assert count == 15  # the odd-numbered activities of 30 are procurements
    assert page.locator("tbody tr").count() == 15
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert len(rows) == count
    assert {r["instrument"] for r in rows} == {"procurement"}
    assert all("pilot" in r["title"].lower() for r in rows)
    # Sorting by the column header keeps the filters.
    page.get_by_role("link", name="Activity").click()
    page.wait_for_url(re.compile(r".*sort=title.*"))
    assert "instrument=procurement" in page.url
    titles = page.locator("tbody tr td:first-child a").all_inner_texts()
    assert titles == sorted(titles)


def _expected_errors(page: Any, status: str) -> None:
    """Chromium logs a refused page as a console error; a refusal the scenario asked for
    is expected (and only that one), anything else still fails the test at its end."""
    errors = page.context.watch.console_errors
    assert errors and all(status in e for e in errors), errors
    errors.clear()


def test_a_visitor_reads_the_published_mission_and_is_asked_to_sign_in(visitor: Any) -> None:
    page = visitor
    page.goto("/")
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()
    assert page.get_by_role("link", name="Open streets for everyone").count() == 1
    assert page.get_by_role("link", name="Clean air in every city by 2030").count() == 0
    assert page.get_by_role("link", name="New mission").count() == 0
    page.get_by_role("link", name="Open streets for everyone").click()
    page.wait_for_url(f"**/missions/{PUBLISHED}")
    assert page.get_by_role("heading", level=1).inner_text() == "Open streets for everyone"
    assert page.get_by_role("link", name="Edit mission").count() == 0
    # The unpublished mission is simply not there; a form sends the visitor to sign in
    # and, once signed in, back to the form.
    assert page.goto("/missions/clean-air").status == 404
    _expected_errors(page, "status of 404")
    page.goto(f"/missions/{PUBLISHED}/edit")
    page.wait_for_url("**/sign-in?next=*")
    page.get_by_label("User name").fill(LEAD)
    page.get_by_label("Password").fill("not the password, certainly")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_label("User name").input_value() == LEAD  # kept, password not
    assert page.get_by_label("Password").input_value() == ""
    assert _axe_serious(page) == []
    _expected_errors(page, "status of 401")
    page.get_by_label("Password").fill(LEAD_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/missions/{PUBLISHED}/edit")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Edit mission")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/$"))
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()
    assert page.context.watch.console_errors == []
    assert page.context.watch.blocked == []


def test_keyboard_skip_link_and_visible_focus(page: Any) -> None:
    page.goto("/missions/clean-air")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.is_visible()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def _main_pages(live_server: LiveServer) -> list[tuple[str, str]]:
    slug = "eu-climate-adaptation" if live_server.has_demo else "clean-air"
    return [
        ("sign-in", "/sign-in"),
        ("missions", "/"),
        ("cockpit", f"/missions/{slug}"),
        ("mission-map", f"/missions/{slug}/map"),
        ("explorer", f"/missions/{slug}/portfolio"),
        ("objective", "/objectives/1"),
        ("indicator", "/indicators/1"),
        ("activity", "/activities/1"),
        ("organisation", "/organisations/1"),
        ("mission-form", "/missions/new"),
        ("indicator-form", f"/missions/{slug}/indicators/new"),
        ("report", f"/missions/{slug}/report"),
        ("review-queue", "/missions/clean-air/suggestions"),  # the factories' suggestions
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_main_pages_are_accessible_offline_and_error_free(
    browser: Any, live_server: LiveServer, screenshots: Path, viewport: dict[str, int]
) -> None:
    """No console error, no request off 127.0.0.1, no serious axe violation, no sideways
    scrolling at phone width; a screenshot of each page for reviewers."""
    context = open_context(browser, live_server, viewport)
    page = watch_page(context)
    width = "desktop" if viewport is DESKTOP else "phone"
    problems: dict[str, list[str]] = {}
    try:
        for name, url in _main_pages(live_server):
            page.goto(url)
            if name == "missions" and not page.get_by_text(f"Signed in as {LEAD}").count():
                sign_in(page)  # the sign-in page was shot as a visitor sees it
            page.wait_for_load_state("networkidle")
            found = _axe_serious(page)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 1:
                found.append(f"page is {overflow}px wider than the {width} viewport")
            if found:
                problems[url] = found
            height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT)
            page.screenshot(
                path=screenshots / f"{name}-{width}.png",
                full_page=True,
                clip={"x": 0, "y": 0, "width": viewport["width"], "height": height},
            )
    finally:
        context.close()
    assert problems == {}, "\n".join(f"{u}: {p}" for u, ps in problems.items() for p in ps)
    assert context.watch.console_errors == []
    assert context.watch.blocked == []
    assert context.watch.requests and all(
        u.startswith(live_server.url + "/") for u in context.watch.requests
    )


def test_the_cockpit_loads_its_findings_and_the_report(page: Any, live_server: LiveServer) -> None:
    page.goto("/missions/clean-air")
    findings = page.locator("#findings")
    findings.locator("ol.findings, p").first.wait_for()
    page.locator('#findings[aria-busy="false"]').wait_for()
    assert "Analysing" not in findings.inner_text()
    page.get_by_role("link", name="Full portfolio report").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Portfolio report")


def test_the_mission_map_collapses_and_links(page: Any) -> None:
    page.goto("/missions/clean-air/map")
    activity = page.get_by_role("link", name="Electric bus pilot 0", exact=True)
    assert not activity.is_visible()
    page.get_by_role("button", name="Expand all").click()
    assert activity.is_visible()
    page.get_by_role("button", name="Collapse all").click()
    assert not activity.is_visible()
    page.get_by_role("button", name="Expand all").click()
    page.get_by_role("link", name="city/buses#0: Procure buses").click()
    page.wait_for_url(re.compile(r".*/activities/\d+#work-item-\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Electric bus pilot 0"


def test_a_reviewer_accepts_and_rejects_suggested_links(page: Any) -> None:
    """From the cockpit's link to the queue; each decision comes back as a confirmation."""
    page.goto(f"/missions/{PUBLISHED}")
    page.get_by_role("link", name=re.compile(r"^Review \d+ suggested links?$")).click()
    page.wait_for_url(re.compile(rf".*/missions/{PUBLISHED}/suggestions$"))
    rows = page.locator("tbody tr")
    before = rows.count()
    assert before >= 2
    rows.first.get_by_role("button", name=re.compile("^Accept")).click()
    page.wait_for_url(re.compile(r".*\?done=accepted$"))
    assert page.get_by_role("status").inner_text().startswith("Accepted")
    assert rows.count() == before - 1
    rows.first.get_by_label("Why reject (optional)").fill("not this objective")
    rows.first.get_by_role("button", name=re.compile("^Reject")).click()
    page.wait_for_url(re.compile(r".*\?done=rejected$"))
    assert page.get_by_role("status").inner_text().startswith("Rejected")
    assert rows.count() == before - 2 or page.get_by_text("Nothing to review").count() == 1
    assert _axe_serious(page) == []


def test_requests_off_the_server_are_caught(page: Any) -> None:
    """The interceptor the offline test relies on does catch a request to elsewhere; and
    the pages' Content-Security-Policy already stops one before it leaves the browser."""
    page.goto("/")
    page.evaluate("fetch('http://example.org/x').catch(() => null)")
    page.goto("/")  # a round trip, so a request would have been routed
    assert page.context.watch.blocked == []  # refused by the policy, never sent
    assert any("Content Security Policy" in e for e in page.context.watch.console_errors)
    page.context.watch.console_errors.clear()
    page.goto("about:blank")  # no policy here: the interceptor must catch it
    page.evaluate("fetch('http://example.org/x').catch(() => null)")
    page.goto(page.context.watch.requests[0])
    assert page.context.watch.blocked == ["http://example.org/x"]
