"""The portfolio report a board reads: headline findings first, then the tables.

One list of sections is built from ``portfolio_analysis``; Markdown, HTML and XLSX are
three renderings of it, so the formats never disagree.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from missionkit.domain.vocab import STAGES

REPORT_FORMATS = ("md", "html", "xlsx", "json")


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _money(amount: float, currency: str) -> str:
    return f"{currency} {amount / 1e6:,.1f}M" if amount >= 1e5 else f"{currency} {amount:,.0f}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def report_sections(report: dict[str, Any]) -> list[Section]:
    cur = report["currency"]
    cov, direction, net = report["coverage"], report["directionality"], report["coherence"]
    stages = []
    for o in report["stage_balance"]["objectives"]:
        shares = {s["stage"]: s["share"] for s in o["stages"]}
        stages.append([o["title"], *(_pct(shares.get(stage)) for stage in STAGES)])
    return [
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
        Section("Balance across the innovation cycle", head=["objective", *STAGES], rows=stages),
        Section(
            "Directionality",
            paragraphs=[f"{_pct(direction['share'])} of the budget is directed to the mission's "
                        "objectives."],
            head=["call", "budget", "directed"],
            rows=[[c["key"] or "(none)", _money(c["budget"], cur), _pct(c["share"])]
                  for c in direction["by_call"]],
        ),
        Section(
            "Collaboration network",
            paragraphs=[f"Share of the budget in the largest connected group: "
                        f"{_pct(net['largest_component_budget_share'])}; isolated activities: "
                        f"{len(net['isolated_activities'])}."],
        ),
    ]  # fmt: skip


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
        "padding:.25rem .5rem;text-align:left}</style></head><body>",
        f"<h1>{e(_title(report))}</h1>",
    ]
    for s in report_sections(report):
        parts.append(f"<section><h2>{e(s.title)}</h2>")
        parts += [f"<p>{e(p)}</p>" for p in s.paragraphs]
        if s.items:
            parts.append("<ol>" + "".join(f"<li>{e(i)}</li>" for i in s.items) + "</ol>")
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


def _safe_cell(text: str) -> str:
    """Spreadsheets run text starting with = + - @ as a formula: keep it text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per section, findings first."""
    from openpyxl import Workbook  # imported here: only this format needs it

    book = Workbook()
    book.remove(book.active)
    for s in report_sections(report):
        sheet = book.create_sheet(s.title[:31])
        for text in [*s.paragraphs, *s.items]:
            sheet.append([_safe_cell(text)])
        if s.head:
            if s.paragraphs or s.items:
                sheet.append([])
            sheet.append(s.head)
            for row in s.rows:
                sheet.append([_safe_cell(c) for c in row])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
