"""The portfolio report a board reads: headline findings first, then the tables."""

from __future__ import annotations

from typing import Any

from missionkit.domain.vocab import STAGES

REPORT_FORMATS = ("md", "json")


def _money(amount: float, currency: str) -> str:
    return f"{currency} {amount / 1e6:,.1f}M" if amount >= 1e5 else f"{currency} {amount:,.0f}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]


def render_markdown(report: dict[str, Any]) -> str:
    """Markdown for a board paper; every figure comes from ``portfolio_analysis``."""
    cur = report["currency"]
    cov, direction = report["coverage"], report["directionality"]
    lines = [f"# Portfolio report: {report['mission']['title']}", ""]
    lines += [f"Budget analysed: {_money(cov['total_budget'], cur)} (public contribution).", ""]
    lines += [f"> {note}" for note in report["notes"]]
    lines += ["## Headline findings", ""]
    lines += [f"{i}. {text}" for i, text in enumerate(report["headline_findings"], 1)] or ["None."]
    lines += ["", "## Coverage of the objectives", ""]
    lines += _table(
        ["objective", "budget", "share", "activities", "status"],
        [
            [o["title"], _money(o["total_budget"], cur), _pct(o["total_share"]),
             str(o["total_activities"]), o["status"]]
            for o in cov["objectives"]
        ],
    )  # fmt: skip
    lines += ["", f"Activities serving no objective: {len(cov['unmapped_activities'])} "
              f"({_money(cov['unmapped_budget'], cur)})."]  # fmt: skip
    lines += ["", "## Balance across the innovation cycle", ""]
    rows = []
    for o in report["stage_balance"]["objectives"]:
        shares = {s["stage"]: s["share"] for s in o["stages"]}
        rows.append([o["title"], *(_pct(shares.get(stage)) for stage in STAGES)])
    lines += _table(["objective", *STAGES], rows)
    lines += ["", "## Directionality", "",
              f"{_pct(direction['share'])} of the budget is directed to the mission's objectives.",
              ""]  # fmt: skip
    lines += _table(
        ["call", "budget", "directed"],
        [[c["key"] or "(none)", _money(c["budget"], cur), _pct(c["share"])]
         for c in direction["by_call"]],
    )  # fmt: skip
    net = report["coherence"]
    lines += ["", "## Collaboration network", "",
              f"Share of the budget in the largest connected group: "
              f"{_pct(net['largest_component_budget_share'])}; isolated activities: "
              f"{len(net['isolated_activities'])}.", ""]  # fmt: skip
    return "\n".join(lines)
