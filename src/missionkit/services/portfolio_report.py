"""The portfolio report a board reads: headline findings first, then charts and tables.

One list of sections is built from ``portfolio_analysis``; Markdown, HTML and XLSX are
three renderings of it, so the formats never disagree. A section's chart is one
:class:`~missionkit.services.charts_svg.Chart`: inline SVG in HTML, a table of the same
numbers in Markdown, a native chart over those numbers in XLSX.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from missionkit.domain.vocab import STAGES
from missionkit.services.charts_svg import Chart, lorenz_points, render_svg
from missionkit.services.spreadsheet import safe_cell

REPORT_FORMATS = ("md", "html", "xlsx", "json")


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    chart: Chart | None = None


def _money(amount: float, currency: str) -> str:
    return f"{currency} {amount / 1e6:,.1f}M" if amount >= 1e5 else f"{currency} {amount:,.0f}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _stage_chart(report: dict[str, Any]) -> Chart | None:
    objectives = [o for o in report["stage_balance"]["objectives"] if o["budget"] > 0]
    if not objectives:
        return None
    present = {s["stage"] for o in objectives for s in o["stages"] if s["budget"] > 0}
    stages = [s for s in STAGES if s in present] + sorted(present - set(STAGES))
    budget = {(o["objective"], s["stage"]): s["budget"] for o in objectives for s in o["stages"]}
    return Chart(
        "stacked_bars",
        "Budget by objective and innovation stage",
        tuple(o["title"] for o in objectives),
        tuple(
            (stage, tuple(budget.get((o["objective"], stage), 0.0) / 1e6 for o in objectives))
            for stage in stages
        ),
        f"{report['currency']} million",
        "Each bar is an objective (sub-objectives included); segments are innovation stages.",
    )


def _instrument_chart(report: dict[str, Any]) -> Chart | None:
    cells = sorted(
        (c for c in report["instrument_mix"]["portfolio"] if c["budget"] > 0),
        key=lambda c: (-c["budget"], c["instrument"]),
    )
    if not cells:
        return None
    return Chart(
        "bars",
        "Budget by instrument",
        tuple(c["instrument"] for c in cells),
        (("budget", tuple(c["budget"] / 1e6 for c in cells)),),
        f"{report['currency']} million",
    )


def _lorenz_chart(report: dict[str, Any]) -> Chart | None:
    spatial = report.get("spatial_equity")
    if not spatial:
        return None
    regions = [r for r in spatial["regions"] if r["population"]]
    if len(regions) < 2:
        return None
    ordered = sorted(regions, key=lambda r: (r["funding"] / r["population"], r["code"]))
    points = lorenz_points([r["population"] for r in ordered], [r["funding"] for r in ordered])
    gini = spatial["gini"]
    return Chart(
        "lorenz",
        "Lorenz curve of funding per head",
        ("(start)", *(r["code"] for r in ordered)),
        (
            ("population", tuple(x for x, _ in points)),
            ("funding", tuple(y for _, y in points)),
        ),
        "cumulative share of population (regions by funding per head, lowest first)",
        f"The further the curve sags below the diagonal, the less equal the funding per head; "
        f"Gini {gini:.2f}."
        if gini is not None
        else "Gini not available.",
    )


def _drift_chart(report: dict[str, Any]) -> Chart | None:
    drift = report.get("drift")
    periods = [p for p in (drift or {}).get("periods", []) if p["period"] != "(none)"]
    if len(periods) < 2:
        return None
    return Chart(
        "lines",
        "Directed share and deployment share by start year",
        tuple(p["period"] for p in periods),
        (
            ("directed share", tuple(p["directed_share"] for p in periods)),
            ("deployment", tuple(p["stage_shares"].get("deployment", 0.0) for p in periods)),
        ),
        "share of the year's budget",
    )


def chart_table(chart: Chart) -> tuple[list[str], list[list[str]]]:
    """The chart's numbers as a table head and rows (the Markdown rendering)."""
    if chart.kind == "lorenz":
        head = ["region", "cumulative population", "cumulative funding"]
        xs, ys = chart.series[0][1], chart.series[1][1]
        rows = [[c, _pct(x), _pct(y)] for c, x, y in zip(chart.categories, xs, ys, strict=True)]
        return head, rows
    percent = chart.kind == "lines"
    head = ["", *(name for name, _ in chart.series)]
    rows = [
        [c, *(_pct(v) if percent else f"{v or 0:,.2f}" for _, values in chart.series
              for v in (values[i],))]
        for i, c in enumerate(chart.categories)
    ]  # fmt: skip
    if not percent:
        head[0] = chart.unit
    return head, rows


def report_sections(report: dict[str, Any]) -> list[Section]:
    cur = report["currency"]
    cov, direction, net = report["coverage"], report["directionality"], report["coherence"]
    stages = []
    for o in report["stage_balance"]["objectives"]:
        shares = {s["stage"]: s["share"] for s in o["stages"]}
        stages.append([o["title"], *(_pct(shares.get(stage)) for stage in STAGES)])
    spatial = report.get("spatial_equity") or {}
    gini = spatial.get("gini")
    mix = sorted(report["instrument_mix"]["portfolio"], key=lambda c: -c["budget"])
    drift_chart = _drift_chart(report)
    sections = [
        Section(
            "Headline findings",
            paragraphs=[f"Budget analysed: {_money(cov['total_budget'], cur)} "
                        "(public contribution).", *report["notes"]],
            items=report["headline_findings"] or ["None."],
        ),
        Section(
            "Coverage of the objectives",
            paragraphs=[f"Activities serving no objective: {len(cov['unmapped_activities'])} "
                        f"({_money(cov['unmapped_budget'], cur)})."],
            head=["objective", "budget", "share", "activities", "status"],
            rows=[[o["title"], _money(o["total_budget"], cur), _pct(o["total_share"]),
                   str(o["total_activities"]), o["status"]] for o in cov["objectives"]],
        ),
        Section("Balance across the innovation cycle", head=["objective", *STAGES], rows=stages,
                chart=_stage_chart(report)),
        Section(
            "Instrument mix",
            head=["instrument", "budget", "share", "activities"],
            rows=[[c["instrument"], _money(c["budget"], cur), _pct(c["share"]),
                   str(c["activities"])] for c in mix],
            chart=_instrument_chart(report),
        ),
        Section(
            "Directionality",
            paragraphs=[f"{_pct(direction['share'])} of the budget is directed to the mission's "
                        "objectives."],
            head=["call", "budget", "directed"],
            rows=[[c["key"] or "(none)", _money(c["budget"], cur), _pct(c["share"])]
                  for c in direction["by_call"]],
        ),
        Section(
            "Drift over the years",
            chart=drift_chart,
            paragraphs=[] if drift_chart else ["Fewer than two start years: no trend to show."],
        ),
        Section(
            "Spatial equity",
            paragraphs=[
                f"Level: {spatial.get('level') or 'as listed'}; Gini of funding per head "
                f"(population-weighted): {'–' if gini is None else f'{gini:.2f}'}; regions "
                f"left behind: {len(spatial.get('left_behind', []))}."
            ] if spatial else ["Not computed."],
            chart=_lorenz_chart(report),
        ),
        Section(
            "Collaboration network",
            paragraphs=[f"Share of the budget in the largest connected group: "
                        f"{_pct(net['largest_component_budget_share'])}; isolated activities: "
                        f"{len(net['isolated_activities'])}; communities: "
                        f"{len(net['communities'])}."],
        ),
    ]  # fmt: skip
    return sections


def _title(report: dict[str, Any]) -> str:
    return f"Portfolio report: {report['mission']['title']}"


def render_markdown(report: dict[str, Any]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"# {_title(report)}"]
    for s in report_sections(report):
        lines += ["", f"## {s.title}", ""]
        lines += [*s.paragraphs, *([""] if s.paragraphs else [])]
        lines += [f"{i}. {item}" for i, item in enumerate(s.items, 1)]
        if s.chart is not None:
            head, rows = chart_table(s.chart)
            lines += [f"*{s.chart.title}* ({s.chart.unit})", ""]
            lines += ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
            lines += [""]
        if s.head:
            lines += ["| " + " | ".join(s.head) + " |", "|" + "---|" * len(s.head)]
            lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in s.rows]
    return "\n".join(lines).rstrip() + "\n"


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page (no external assets) to print or mail to a board."""
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(_title(report))}</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem}table{border-collapse:collapse}th,td{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left}figure{margin:1rem 0}"
        "svg{max-width:100%;height:auto}</style></head><body>",
        f"<h1>{e(_title(report))}</h1>",
    ]
    for s in report_sections(report):
        parts.append(f"<section><h2>{e(s.title)}</h2>")
        parts += [f"<p>{e(p)}</p>" for p in s.paragraphs]
        if s.items:
            parts.append("<ol>" + "".join(f"<li>{e(i)}</li>" for i in s.items) + "</ol>")
        if s.chart is not None:
            # Inline SVG in HTML needs no namespace: the page names no URL at all.
            svg = render_svg(s.chart).replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
            parts.append(f"<figure>{svg}</figure>")
        if s.head:
            parts.append(
                "<table><thead><tr>" + "".join(f'<th scope="col">{e(h)}</th>' for h in s.head)
            )
            parts.append("</tr></thead><tbody>")
            parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in s.rows]
            parts.append("</tbody></table>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _xlsx_chart(sheet: Any, chart: Chart) -> None:
    """The chart's numbers as a table from the sheet's next row, and a native chart over
    them placed beside the section's text."""
    from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series

    first = sheet.max_row + 2
    names = [name for name, _ in chart.series]
    sheet.cell(first, 1, chart.unit)
    for j, name in enumerate(names, 2):
        sheet.cell(first, j, name)
    for i, category in enumerate(chart.categories):
        sheet.cell(first + 1 + i, 1, safe_cell(category))
        for j, (_, values) in enumerate(chart.series, 2):
            sheet.cell(first + 1 + i, j, values[i])
    last = first + len(chart.categories)
    native: Any
    if chart.kind == "lorenz":
        native = ScatterChart()
        xs = Reference(sheet, min_col=2, min_row=first + 1, max_row=last)
        ys = Reference(sheet, min_col=3, min_row=first + 1, max_row=last)
        curve = Series(ys, xs, title="funding per head")
        native.series.append(curve)
        native.x_axis.title = chart.unit
        native.y_axis.title = "cumulative share of funding"
        native.x_axis.scaling.min = native.y_axis.scaling.min = 0
        native.x_axis.scaling.max = native.y_axis.scaling.max = 1
    else:
        if chart.kind == "lines":
            native = LineChart()
        else:
            native = BarChart()
            native.type = "bar"
            if chart.kind == "stacked_bars":
                native.grouping = "stacked"
                native.overlap = 100
        data = Reference(sheet, min_col=2, max_col=1 + len(names), min_row=first, max_row=last)
        native.add_data(data, titles_from_data=True)
        native.set_categories(Reference(sheet, min_col=1, min_row=first + 1, max_row=last))
        native.y_axis.title = chart.unit
    native.title = chart.title
    native.width, native.height = 18, 9
    sheet.add_chart(native, f"{chr(ord('A') + len(names) + 2)}{first}")


def render_xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per section, findings first."""
    from openpyxl import Workbook  # imported here: only this format needs it

    book = Workbook()
    book.remove(book.active)
    for s in report_sections(report):
        sheet = book.create_sheet(s.title[:31])
        for text in [*s.paragraphs, *s.items]:
            sheet.append([safe_cell(text)])
        if s.head:
            if s.paragraphs or s.items:
                sheet.append([])
            sheet.append(s.head)
            for row in s.rows:
                sheet.append([safe_cell(c) for c in row])
        if s.chart is not None:
            _xlsx_chart(sheet, s.chart)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
