"""Region rows come from the reference lists (ISO 3166, NUTS) the first time a code is used."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from missionkit.domain.regions import RegionRef, lookup_region
from missionkit.store.tables import Region, table_of


def reference_chain(code: str) -> list[RegionRef]:
    """The region and its ancestors, root first, as the reference gives them."""
    chain: list[RegionRef] = []
    ref = lookup_region(code)
    while ref is not None:
        chain.append(ref)
        ref = lookup_region(ref.parent) if ref.parent else None
    return chain[::-1]


def region_row_values(ref: RegionRef) -> dict[str, object]:
    return {
        "code": ref.code,
        "name": ref.name,
        "level": ref.level,
        "parent_code": ref.parent,
        "country": ref.country,
        "version": 1,
    }


def ensure_regions(session: Session, codes: Iterable[str], known: set[str] | None = None) -> None:
    """Insert any region (and its ancestors) not yet stored; ``known`` caches codes seen.

    Codes must already be validated; an unknown code here is a programming error.
    """
    wanted = {c for c in codes if c and (known is None or c not in known)}
    if not wanted:
        return
    chains = {c: reference_chain(c) for c in wanted}
    every = {ref.code for chain in chains.values() for ref in chain}
    stored = set(session.scalars(select(Region.code).where(Region.code.in_(every))))
    rows = []
    for chain in chains.values():
        for ref in chain:
            if ref.code not in stored:
                stored.add(ref.code)
                rows.append(region_row_values(ref))
    if rows:
        session.execute(insert(table_of(Region)), rows)
    if known is not None:
        known |= every
