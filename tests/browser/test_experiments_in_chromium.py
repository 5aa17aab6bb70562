"""The experiment pages in a real headless Chromium: a mission lead registers a pilot,
locks its plan, randomises uploaded units, uploads the results, reads the analysis and
records the decision, which then shows on the cockpit. axe-core finds no violation on any
of the new pages, nothing is logged to the console, and no request leaves the server.
A screenshot of the experiment page goes to docs/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import PHONE, LiveServer, open_context, sign_in, watch_page

MISSION = "clean-air"
MAX_SHOT = 3000  # px, as the other screenshots: the top is what a reviewer needs
UNITS = "unit,stratum\n" + "\n".join(f"P-{i:03d},{['small', 'large'][i % 2]}" for i in range(400))
REGISTER = {
    "title": "Impact-first assessment criteria",
    "slug": "browser-impact-first",
    "question": "Does scoring mission impact first raise the share of relevant proposals?",
    "hypothesis": "Impact-first scoring raises the shortlisted share by 10 points.",
    "unit": "proposal",
    "arms": "current-criteria\nnew-criteria, 1, impact scored first",
    "primary_metric": "proposals shortlisted",
    "minimum_detectable_effect": "0.1",
    "planned_sample": "400",
}
SELECTS = {"stage": "process", "design": "ab", "primary_kind": "proportion",
           "randomisation": "stratified"}  # fmt: skip


def _axe(page: Any) -> list[str]:
    """Every axe-core violation, whatever its impact (the new pages must have none)."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
    ]


def _shoot(page: Any, path: Path) -> None:
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT)
    width = page.viewport_size["width"]
    page.screenshot(
        path=path, full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
    )


def test_register_lock_randomise_analyse_and_decide(
    page: Any, browser: Any, live_server: LiveServer, screenshots: Path, tmp_path: Path
) -> None:
    problems: dict[str, list[str]] = {}

    def check(name: str) -> None:
        found = _axe(page)
        if found:
            problems[name] = found

    page.goto(f"/missions/{MISSION}/experiments")
    check("list (empty)")
    page.get_by_role("link", name="Register an experiment").first.click()
    check("register form")

    # A mistake first: it is named at its field and nothing typed is lost.
    for name, value in (REGISTER | {"slug": "Not A Slug"}).items():
        page.locator(f"#f-{name}").fill(value)
    for name, value in SELECTS.items():
        page.locator(f"#f-{name}").select_option(value)
    page.get_by_role("button", name="Register").click()
    assert page.locator("#f-slug-error").is_visible()
    assert page.locator("#f-slug").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-question").input_value() == REGISTER["question"]
    check("register form with an error")
    # Chromium logs the refused form's 422 as a failed load; that one is expected.
    logged = page.context.watch.console_errors
    assert all("status of 422" in e for e in logged), logged
    logged.clear()
    page.locator("#f-slug").fill(REGISTER["slug"])
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r".*/experiments/\d+\?done=registered$"))
    assert page.get_by_role("heading", level=1).inner_text() == REGISTER["title"]
    assert page.get_by_role("status").inner_text().startswith("Registered")

    # The power check for the planned sample, then pre-registration.
    page.get_by_label("Baseline rate in the control (0 to 1)").fill("0.25")
    page.get_by_role("button", name="Check the power").click()
    assert "% power" in page.locator("#design .notice").inner_text()
    page.get_by_role("button", name="Lock plan").click()
    page.wait_for_url(re.compile(r".*\?done=locked#versions$"))
    digest = page.locator("#versions code").first.inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)

    # Randomise uploaded units; the summary and the sample-ratio check show.
    units = tmp_path / "units.csv"
    units.write_text(UNITS, "utf-8")
    page.locator("#r-seed").fill("7")
    page.locator("#r-file").set_input_files(str(units))
    page.get_by_role("button", name="Randomise").click()
    page.wait_for_url(re.compile(r".*\?done=randomised#randomisation$"))
    section = page.locator("#randomisation")
    assert "Sample-ratio check" in section.inner_text() and "400 units" in section.inner_text()
    with page.expect_download() as download:
        section.get_by_role("link", name="Download the assignment (CSV)").click()
    rows = Path(download.value.path()).read_text("utf-8").splitlines()
    assert rows[0].startswith("unit,arm") and len(rows) == 401

    # Results by the per-arm table: the analysis, its chart and the plan it follows.
    page.get_by_label("current-criteria: units").fill("200")
    page.get_by_label("current-criteria: successes").fill("48")
    page.get_by_label("new-criteria: units").fill("200")
    page.get_by_label("new-criteria: successes").fill("71")
    page.locator("form", has=page.locator("#t-n-0")).get_by_role("button", name="Analyse").click()
    page.wait_for_url(re.compile(r".*\?done=analysed#analysis$"))
    analysis = page.locator("#analysis")
    assert "Follows plan version 1" in analysis.inner_text() and digest in analysis.inner_text()
    chart = analysis.locator("svg[role=img]")
    assert chart.count() == 1 and "new-criteria" in (chart.locator("title").text_content() or "")
    check("experiment page, analysed")

    page.locator("#decide-decision").select_option("scale")
    page.locator("#decide-learning").fill("Impact-first criteria shortlist more relevant work.")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r".*\?done=decided#decisions$"))
    assert "Impact-first criteria shortlist" in page.locator("#decisions").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_load_state("networkidle")
    _shoot(page, screenshots / "experiment-desktop.png")
    check("experiment page, decided")
    experiment_url = page.url.split("?")[0]
    phone = open_context(browser, live_server, PHONE)
    try:
        small = watch_page(phone)
        small.goto("/")
        sign_in(small)  # clean-air is unpublished: a visitor gets the 404 page
        small.goto(experiment_url)
        small.wait_for_load_state("networkidle")
        overflow = small.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"the experiment page is {overflow}px wider than a phone"
        _shoot(small, screenshots / "experiment-phone.png")
        assert phone.watch.console_errors == [] and phone.watch.blocked == []
    finally:
        phone.close()

    page.get_by_role("link", name="Experiments", exact=True).click()
    assert "decided" in page.locator("tbody").inner_text()
    check("list")
    page.goto(f"/missions/{MISSION}")
    learning = page.locator("section", has=page.locator("#h-learning"))
    assert "Impact-first criteria shortlist" in learning.inner_text()
    learning.get_by_role("link", name="All experiments of this mission").click()
    page.wait_for_url(f"**/missions/{MISSION}/experiments")

    assert problems == {}, "\n".join(f"{n}: {p}" for n, ps in problems.items() for p in ps)
    assert page.context.watch.console_errors == []
    assert page.context.watch.blocked == []
