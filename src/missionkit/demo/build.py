"""The demo mission map: two missions built offline from real published data.

``build_demo_document(data_dir)`` returns a plain, JSON-ready mission-map document (see
:mod:`missionkit.domain.document`). What is real and what is generated:

**Real** (read from ``data_dir``, see each folder's ``SOURCE.md``):

* the 46 projects of the EU Mission "Adaptation to Climate Change" (titles, dates, budgets,
  EU contributions, calls, types of action, the data author's tags) and its 908 participant
  rows (872 organisations by PIC, with NUTS regions), via :mod:`missionkit.connectors.cordis`;
* the 53 grants of the Baring Foundation's 2014-2015 360Giving file, via
  :mod:`missionkit.connectors.giving360`;
* the Mission's statement, launch date, owner and its objectives' names, which follow the
  Commission's implementation plan (objective 1 "preparing and planning for climate
  resilience", objective 2 "accelerating transformations", plus the enabling conditions);
* indicator ``charter-signatories``: Mission Charter signatories as announced by the
  Commission (118 on 7 June 2022; 215 from Member States plus 13 from associated countries
  on 29 September 2022; 308 on 7 March 2023);
* indicator ``climate-losses``: EEA estimates of economic losses from weather- and
  climate-related extremes in the EU (average 2011-2020, and 2021 and 2022);
* indicator ``demonstrations`` and the Baring indicator: counted from the data above.

**Derived by a transparent rule**: every contribution (activity -> objective) is a keyword
suggestion, provenance ``suggested`` with its score (see :func:`suggest_contributions`).

**Generated for the demo** (marked "generated" in the data itself):

* indicator ``resilience-pathways`` (its whole series and its per-country observations);
* the ``reviewed`` status of five adaptation contributions;
* the two reviews/decisions and the three GitHub work items;
* the framing of the Baring grants as a mission (statement, objectives, deadline);
* the two pilots of :mod:`missionkit.demo.pilots` (their outline proposals and outcomes),
  which ``missionkit demo`` runs through the experiment registry after the import.

The target of 75 demonstrations is recalled from the Mission implementation plan and could
not be re-checked offline; it is labelled illustrative in the indicator's description.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from missionkit.connectors.cordis import read_cordis
from missionkit.connectors.giving360 import read_360giving_json
from missionkit.demo.adaptation import adaptation_mission
from missionkit.demo.baring import award_dates, baring_mission
from missionkit.demo.rule import ObjectiveSpec, suggest_contributions
from missionkit.domain.document import FORMAT, FORMAT_VERSION

__all__ = ["ObjectiveSpec", "build_demo_document", "suggest_contributions"]


def _unique(orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for org in orgs:
        seen.setdefault(org["identifier"], org)
    return list(seen.values())


def build_demo_document(data_dir: Path) -> dict[str, Any]:
    """The demo mission-map document, JSON-ready, from the data sets under ``data_dir``."""
    cordis = read_cordis(data_dir / "eu-adaptation-mission")
    baring_file = data_dir / "360giving-samples" / "baring.json"
    baring = read_360giving_json(baring_file)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "regions": [],
        "organisations": _unique(cordis.organisations + baring.organisations),
        "missions": [
            adaptation_mission(cordis.activities),
            baring_mission(baring.activities, award_dates(baring_file)),
        ],
    }


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m missionkit.demo.build DATA_DIR`` writes the document to stdout."""
    args = list(sys.argv[1:] if argv is None else argv)
    data_dir = Path(args[0]) if args else Path("shared/data")
    json.dump(build_demo_document(data_dir), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
