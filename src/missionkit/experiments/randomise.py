"""Reproducible random assignment: simple, stratified or by cluster.

The same units, arms, weights and seed always give the same assignment, whatever order the
units arrive in (they are sorted by id first), so an assignment can be re-derived and audited.
Within each stratum (or over all units, or over clusters when whole clusters are assigned)
the numbers per arm follow the weights exactly up to rounding (largest remainder; ties broken
at random), then units are shuffled into those slots with numpy's PCG64 generator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from missionkit.experiments import srm
from missionkit.experiments.types import ExperimentInputError


@dataclass(frozen=True)
class Unit:
    id: str
    stratum: str | None = None
    cluster: str | None = None


@dataclass(frozen=True)
class Assignment:
    unit: str
    arm: str
    stratum: str | None
    cluster: str | None


@dataclass(frozen=True)
class AssignmentResult:
    assignments: tuple[Assignment, ...]
    counts: dict[str, int]  # units per arm
    clusters: dict[str, int]  # clusters per arm (empty unless clustered)
    seed: int
    method: str
    srm: srm.SrmResult
    warnings: tuple[str, ...]


def _slots(n: int, weights: Sequence[float], rng: np.random.Generator) -> list[int]:
    """Arm index per slot: exact largest-remainder counts, shuffled."""
    w = np.asarray(weights, dtype=float)
    quota = n * w / w.sum()
    counts = np.floor(quota).astype(int)
    short = n - int(counts.sum())
    if short:
        remainder = quota - counts
        # break ties at random so no arm is favoured systematically
        order = np.lexsort((rng.random(len(w)), -remainder))
        counts[order[:short]] += 1
    slots = np.repeat(np.arange(len(w)), counts)
    rng.shuffle(slots)
    return [int(s) for s in slots]


def assign(
    units: Sequence[Unit], arms: Mapping[str, float], *, seed: int, method: str = "simple"
) -> AssignmentResult:
    """Assign ``units`` to ``arms`` (name -> weight). ``method``: simple, stratified, clustered.

    Stratified assignment balances arms within each ``stratum``; clustered assignment gives
    every unit of a ``cluster`` the same arm (and balances clusters within strata if given).
    """
    if method not in ("simple", "stratified", "clustered"):
        raise ExperimentInputError("method", "must be simple, stratified or clustered")
    if len(arms) < 2:
        raise ExperimentInputError("arms", "need at least two arms")
    if any(w <= 0 for w in arms.values()):
        raise ExperimentInputError("arms", "weights must be > 0")
    if not units:
        raise ExperimentInputError("units", "no units to assign")
    ids = [u.id for u in units]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ExperimentInputError("units", f"unit {dup!r} appears twice")
    for i, u in enumerate(units):
        if not u.id:
            raise ExperimentInputError(f"units[{i}].unit", "is empty")
        if method == "stratified" and not u.stratum:
            raise ExperimentInputError(f"units[{i}].stratum", "is required for stratified")
        if method == "clustered" and not u.cluster:
            raise ExperimentInputError(f"units[{i}].cluster", "is required for clustered")
    names = list(arms)
    weights = [arms[a] for a in names]
    rng = np.random.Generator(np.random.PCG64(seed))
    ordered = sorted(units, key=lambda u: u.id)
    arm_of: dict[str, str] = {}
    cluster_arm: dict[str, str] = {}
    warnings: list[str] = []
    if method == "clustered":
        strata_of_cluster: dict[str, set[str | None]] = defaultdict(set)
        for u in ordered:
            strata_of_cluster[u.cluster or ""].add(u.stratum)
        mixed = [c for c, s in strata_of_cluster.items() if len(s) > 1]
        if mixed:
            raise ExperimentInputError("units", f"cluster {mixed[0]!r} spans several strata")
        blocks: dict[str | None, list[str]] = defaultdict(list)
        for c in sorted(strata_of_cluster):
            blocks[next(iter(strata_of_cluster[c]))].append(c)
        for key in sorted(blocks, key=lambda s: (s is None, s or "")):
            for c, slot in zip(blocks[key], _slots(len(blocks[key]), weights, rng), strict=True):
                cluster_arm[c] = names[slot]
        for u in ordered:
            arm_of[u.id] = cluster_arm[u.cluster or ""]
    else:
        groups: dict[str | None, list[Unit]] = defaultdict(list)
        for u in ordered:
            groups[u.stratum if method == "stratified" else None].append(u)
        for key in sorted(groups, key=lambda s: (s is None, s or "")):
            members = groups[key]
            for u, slot in zip(members, _slots(len(members), weights, rng), strict=True):
                arm_of[u.id] = names[slot]
            if method == "stratified" and len(members) < len(names):
                warnings.append(
                    f"stratum {key!r} has {len(members)} units for {len(names)} arms: some "
                    "arms get none there"
                )
    counts = {a: 0 for a in names}
    for arm in arm_of.values():
        counts[arm] += 1
    clusters = {a: 0 for a in names} if cluster_arm else {}
    for arm in cluster_arm.values():
        clusters[arm] += 1
    if cluster_arm and min(clusters.values()) < 15:
        warnings.append(
            f"{min(clusters.values())} clusters in the smallest arm: cluster-randomised "
            "inference needs more clusters (aim for 15+ per arm)"
        )
    ratio = srm.check([counts[a] for a in names], weights)
    return AssignmentResult(
        assignments=tuple(Assignment(u.id, arm_of[u.id], u.stratum, u.cluster) for u in units),
        counts=counts,
        clusters=clusters,
        seed=seed,
        method=method,
        srm=ratio,
        warnings=tuple(warnings) + ratio.warnings if not cluster_arm else tuple(warnings),
    )
