"""The typed, columnar portfolio every analysis reads.

A :class:`Portfolio` holds five Polars frames with fixed schemas (see ``*_SCHEMA``):

* ``activities``: ``id``, ``title``, ``budget`` (the public contribution, one currency),
  ``instrument``, ``stage``, ``trl_min``, ``trl_max``, ``call``, ``year`` (start year),
  ``regions`` and ``sectors`` (lists of strings), ``stage_from_trl`` (True where the stage
  was derived from the TRL range, see :func:`stage_from_trl`);
* ``contributions``: ``activity``, ``objective``, ``weight`` (0..1), ``provenance``
  (manual, suggested, reviewed), ``score`` (the mapping score of a suggestion, 0..1);
* ``participations``: ``activity``, ``organisation``, ``role``;
* ``objectives``: ``id``, ``parent``, ``title``;
* ``regions``: ``code``, ``name``, ``level``, ``parent``, ``population``,
  ``gdp_per_head``, ``need``, ``group`` (e.g. the innovation-scoreboard group).

Build one with :meth:`Portfolio.from_records` (plain mappings), :meth:`Portfolio.from_frames`
(Polars frames) or :meth:`Portfolio.from_documents` (mission-map document parts, e.g. what
:func:`missionkit.connectors.cordis.read_cordis` returns). Every constructor validates; a
rejected value raises :class:`PortfolioError` naming the table, the record (position and
key) and the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, get_args

import polars as pl

from missionkit.domain.vocab import STAGES, Instrument, ParticipationRole, Provenance, RegionLevel

__all__ = [
    "ACTIVITY_SCHEMA",
    "CONTRIBUTION_SCHEMA",
    "INSTRUMENTS",
    "OBJECTIVE_SCHEMA",
    "PARTICIPATION_SCHEMA",
    "PROVENANCES",
    "REGION_SCHEMA",
    "TRL_BANDS",
    "Portfolio",
    "PortfolioError",
    "stage_from_trl",
]

INSTRUMENTS: tuple[str, ...] = get_args(Instrument)
PROVENANCES: tuple[str, ...] = get_args(Provenance)
ROLES: tuple[str, ...] = get_args(ParticipationRole)
REGION_LEVELS: tuple[str, ...] = get_args(RegionLevel)

ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "title": pl.String(),
    "budget": pl.Float64(),
    "instrument": pl.String(),
    "stage": pl.String(),
    "trl_min": pl.Int64(),
    "trl_max": pl.Int64(),
    "call": pl.String(),
    "year": pl.Int64(),
    "regions": pl.List(pl.String()),
    "sectors": pl.List(pl.String()),
}
CONTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "activity": pl.String(),
    "objective": pl.String(),
    "weight": pl.Float64(),
    "provenance": pl.String(),
    "score": pl.Float64(),
}
PARTICIPATION_SCHEMA: dict[str, pl.DataType] = {
    "activity": pl.String(),
    "organisation": pl.String(),
    "role": pl.String(),
}
OBJECTIVE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "parent": pl.String(),
    "title": pl.String(),
}
REGION_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(),
    "name": pl.String(),
    "level": pl.String(),
    "parent": pl.String(),
    "population": pl.Float64(),
    "gdp_per_head": pl.Float64(),
    "need": pl.Float64(),
    "group": pl.String(),
}

# Columns a frame must have; every other column of the schema is optional.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "activities": ("id", "budget"),
    "contributions": ("activity", "objective"),
    "participations": ("activity", "organisation"),
    "objectives": ("id",),
    "regions": ("code",),
}
# Defaults for optional columns that are not simply missing (null).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "activities": {"instrument": "grant", "regions": [], "sectors": []},
    "contributions": {"weight": 1.0, "provenance": "manual"},
    "participations": {"role": "participant"},
    "objectives": {},
    "regions": {},
}
_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "activities": ACTIVITY_SCHEMA,
    "contributions": CONTRIBUTION_SCHEMA,
    "participations": PARTICIPATION_SCHEMA,
    "objectives": OBJECTIVE_SCHEMA,
    "regions": REGION_SCHEMA,
}
# The field(s) that identify a record in an error message.
_KEYS: dict[str, tuple[str, ...]] = {
    "activities": ("id",),
    "contributions": ("activity", "objective"),
    "participations": ("activity", "organisation"),
    "objectives": ("id",),
    "regions": ("code",),
}

TRL_BANDS: tuple[tuple[int, int, str], ...] = (
    (1, 3, "research"),
    (4, 5, "development"),
    (6, 7, "demonstration"),
    (8, 9, "deployment"),
)
"""Technology readiness levels -> stage, used only where an activity names no stage.

TRL 1-3 (basic principles to proof of concept) is research, 4-5 (validation in the lab and
in a relevant environment) development, 6-7 (prototype demonstrated in a relevant or
operational environment) demonstration, 8-9 (system complete, proven in operation)
deployment. Diffusion lies beyond the TRL scale and is never derived. The band of
``trl_max`` decides: an activity is placed at the stage it aims to reach."""


def stage_from_trl(trl_max: int | None) -> str | None:
    """The stage of :data:`TRL_BANDS` that contains ``trl_max`` (None when unknown)."""
    if trl_max is None:
        return None
    for low, high, stage in TRL_BANDS:
        if low <= trl_max <= high:
            return stage
    raise ValueError(f"TRL must be between 1 and 9, not {trl_max}")


class PortfolioError(ValueError):
    """A record that cannot enter a portfolio, and exactly where it is.

    ``table`` is one of activities, contributions, participations, objectives, regions;
    ``index`` the record's position (0-based) in what was passed; ``key`` what identifies it
    (an activity id, ``activity -> objective`` for a contribution); ``field`` the offending
    field.
    """

    def __init__(
        self, table: str, index: int | None, key: str | None, field: str, message: str
    ) -> None:
        self.table = table
        self.index = index
        self.key = key
        self.field = field
        self.message = message
        where = table if index is None else f"{table}[{index}]"
        if key:
            where += f" ({key})"
        super().__init__(f"{where}, field {field!r}: {message}")


# --- parsing plain records ---------------------------------------------------------------


def _key_of(table: str, record: Mapping[str, Any]) -> str | None:
    parts = [str(record.get(name)) for name in _KEYS[table] if record.get(name) is not None]
    return " -> ".join(parts) or None


def _coerce(table: str, index: int, key: str | None, name: str, dtype: pl.DataType, v: Any) -> Any:
    def bad(message: str) -> PortfolioError:
        return PortfolioError(table, index, key, name, message)

    if isinstance(dtype, pl.List):
        if isinstance(v, str) or not isinstance(v, Iterable):
            raise bad(f"must be a list of strings, got {v!r}")
        items = list(v)
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise bad(f"must be a list of non-empty strings, got item {item!r}")
        return list(dict.fromkeys(item.strip() for item in items))
    if dtype == pl.String():
        if not isinstance(v, str):
            raise bad(f"must be a string, got {v!r}")
        return v.strip()
    if dtype == pl.Float64():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise bad(f"must be a number, got {v!r}")
        if not math.isfinite(v):
            raise bad(f"must be a finite number, got {v!r}")
        return float(v)
    if dtype == pl.Int64():
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad(f"must be a whole number, got {v!r}")
        return v
    raise AssertionError(dtype)  # pragma: no cover


def _parse_records(table: str, records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    schema = _SCHEMAS[table]
    columns: dict[str, list[Any]] = {name: [] for name in schema}
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise PortfolioError(table, index, None, "", f"must be a mapping, got {record!r}")
        key = _key_of(table, record)
        unknown = sorted(set(record) - set(schema))
        if unknown:
            known = ", ".join(schema)
            raise PortfolioError(table, index, key, unknown[0], f"unknown field (known: {known})")
        for name, dtype in schema.items():
            v = record.get(name)
            if v is None:
                if name in _REQUIRED[table]:
                    raise PortfolioError(table, index, key, name, "is required")
                v = _DEFAULTS[table].get(name)
            else:
                v = _coerce(table, index, key, name, dtype, v)
            columns[name].append(v)
    return pl.DataFrame(columns, schema=schema)


# --- normalising and checking frames -----------------------------------------------------


def _conform(table: str, frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The frame with exactly the table's schema: missing optional columns filled."""
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    schema = _SCHEMAS[table]
    extra = [c for c in data.columns if c not in schema]
    if extra:
        known = ", ".join(schema)
        raise PortfolioError(table, None, None, extra[0], f"unknown column (known: {known})")
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        default = _DEFAULTS[table].get(name)
        if name not in data.columns:
            if name in _REQUIRED[table]:
                raise PortfolioError(table, None, None, name, "column is missing")
            exprs.append(pl.lit(default, dtype=dtype).alias(name))
            continue
        try:
            column = data.get_column(name).cast(dtype, strict=True)
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as error:
            message = f"cannot be read as {dtype}: {str(error).splitlines()[0]}"
            raise PortfolioError(table, None, None, name, message) from None
        expr = pl.lit(column)
        if default is not None:
            expr = expr.fill_null(pl.lit(default, dtype=dtype))
        if dtype == pl.String():
            expr = expr.str.strip_chars()
        exprs.append(expr.alias(name))
    return data.select(exprs) if exprs else data


def _first_bad(table: str, frame: pl.DataFrame, ok: pl.Expr, name: str, message: str) -> None:
    """Raise for the first row where ``ok`` is not true (null counts as not true)."""
    bad = (
        frame.with_row_index("_row")
        .with_columns(ok.fill_null(False).alias("_ok"))  # a column first: polars 1.x cannot
        .filter(~pl.col("_ok"))  # filter on list.eval directly
        .head(1)
    )
    if bad.height:
        record = bad.row(0, named=True)
        value = record.get(name)
        raise PortfolioError(
            table, int(record["_row"]), _key_of(table, record), name, f"{message}, got {value!r}"
        )


def _unique(table: str, frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    dup = frame.with_row_index("_row").filter(~pl.struct(list(columns)).is_first_distinct()).head(1)
    if dup.height:
        record = dup.row(0, named=True)
        raise PortfolioError(
            table, int(record["_row"]), _key_of(table, record), columns[-1], f"{what} twice"
        )


def _nonempty(column: str) -> pl.Expr:
    return pl.col(column).str.len_chars() > 0


def _check_activities(frame: pl.DataFrame) -> pl.DataFrame:
    t = "activities"
    _first_bad(t, frame, _nonempty("id"), "id", "must be a non-empty string")
    _unique(t, frame, ["id"], "the same activity id appears")
    budget = pl.col("budget")
    _first_bad(t, frame, budget.is_finite() & (budget >= 0), "budget", "must be a number >= 0")
    _first_bad(
        t, frame, pl.col("instrument").is_in(INSTRUMENTS), "instrument",
        f"must be one of {', '.join(INSTRUMENTS)}",
    )  # fmt: skip
    stage = pl.col("stage")
    _first_bad(t, frame, stage.is_null() | stage.is_in(STAGES), "stage",
               f"must be one of {', '.join(STAGES)}")  # fmt: skip
    for name in ("trl_min", "trl_max"):
        col = pl.col(name)
        _first_bad(t, frame, col.is_null() | col.is_between(1, 9), name, "must be 1..9")
    lo, hi = pl.col("trl_min"), pl.col("trl_max")
    _first_bad(t, frame, lo.is_null() | hi.is_null() | (lo <= hi), "trl_max",
               "must not be below trl_min")  # fmt: skip
    for name in ("regions", "sectors"):
        items = pl.col(name).list.eval(pl.element().fill_null("").str.len_chars() > 0)
        _first_bad(t, frame, items.list.all(), name, "must hold non-empty strings")
    derived = pl.col("stage").is_null() & pl.col("trl_max").is_not_null()
    trl_stage = pl.lit(None, dtype=pl.String())
    for low, high, name in reversed(TRL_BANDS):
        trl_stage = (
            pl.when(pl.col("trl_max").is_between(low, high)).then(pl.lit(name)).otherwise(trl_stage)
        )
    return frame.with_columns(
        pl.when(derived).then(trl_stage).otherwise(pl.col("stage")).alias("stage"),
        derived.alias("stage_from_trl"),
        pl.col("regions").list.unique(maintain_order=True),
        pl.col("sectors").list.unique(maintain_order=True),
    )


def _check_objectives(frame: pl.DataFrame) -> pl.DataFrame:
    t = "objectives"
    _first_bad(t, frame, _nonempty("id"), "id", "must be a non-empty string")
    _unique(t, frame, ["id"], "the same objective id appears")
    ids = frame.get_column("id")
    parent = pl.col("parent")
    _first_bad(t, frame, parent.is_null() | parent.is_in(ids.implode()), "parent",
               "must be the id of another objective")  # fmt: skip
    parents = dict(zip(ids.to_list(), frame.get_column("parent").to_list(), strict=True))
    for index, start in enumerate(ids.to_list()):
        seen = {start}
        node = parents[start]
        while node is not None:
            if node in seen:
                raise PortfolioError(t, index, start, "parent", "the objective is its own ancestor")
            seen.add(node)
            node = parents[node]
    return frame.with_columns(pl.col("title").fill_null(pl.col("id")))


def _check_contributions(
    frame: pl.DataFrame, activities: pl.Series, objectives: pl.Series
) -> pl.DataFrame:
    t = "contributions"
    _first_bad(t, frame, pl.col("activity").is_in(activities.implode()), "activity",
               "must be the id of an activity")  # fmt: skip
    _first_bad(t, frame, pl.col("objective").is_in(objectives.implode()), "objective",
               "must be the id of an objective")  # fmt: skip
    weight = pl.col("weight")
    _first_bad(t, frame, weight.is_between(0.0, 1.0), "weight", "must be between 0 and 1")
    _first_bad(t, frame, pl.col("provenance").is_in(PROVENANCES), "provenance",
               f"must be one of {', '.join(PROVENANCES)}")  # fmt: skip
    score = pl.col("score")
    _first_bad(t, frame, score.is_null() | score.is_between(0.0, 1.0), "score",
               "must be between 0 and 1")  # fmt: skip
    _unique(t, frame, ["activity", "objective"], "the same activity -> objective link appears")
    return frame


def _check_participations(frame: pl.DataFrame, activities: pl.Series) -> pl.DataFrame:
    t = "participations"
    _first_bad(t, frame, pl.col("activity").is_in(activities.implode()), "activity",
               "must be the id of an activity")  # fmt: skip
    _first_bad(t, frame, _nonempty("organisation"), "organisation", "must be a non-empty string")
    _first_bad(t, frame, pl.col("role").is_in(ROLES), "role",
               f"must be one of {', '.join(ROLES)}")  # fmt: skip
    return frame


def _check_regions(frame: pl.DataFrame) -> pl.DataFrame:
    t = "regions"
    _first_bad(t, frame, _nonempty("code"), "code", "must be a non-empty string")
    _unique(t, frame, ["code"], "the same region code appears")
    for name in ("population", "gdp_per_head", "need"):
        col = pl.col(name)
        _first_bad(t, frame, col.is_null() | (col.is_finite() & (col >= 0)), name,
                   "must be a number >= 0")  # fmt: skip
    level = pl.col("level")
    _first_bad(t, frame, level.is_null() | level.is_in(REGION_LEVELS), "level",
               f"must be one of {', '.join(REGION_LEVELS)}")  # fmt: skip
    return frame


# --- the portfolio -----------------------------------------------------------------------


@dataclass(frozen=True)
class Portfolio:
    """Validated columnar portfolio data (build it with a ``from_*`` constructor).

    ``currency`` is the ISO 4217 code every budget is in; it only labels output.
    """

    activities: pl.DataFrame
    contributions: pl.DataFrame
    participations: pl.DataFrame
    objectives: pl.DataFrame
    regions: pl.DataFrame
    currency: str = "EUR"

    @classmethod
    def from_frames(
        cls,
        activities: pl.DataFrame | pl.LazyFrame,
        contributions: pl.DataFrame | pl.LazyFrame | None = None,
        participations: pl.DataFrame | pl.LazyFrame | None = None,
        objectives: pl.DataFrame | pl.LazyFrame | None = None,
        regions: pl.DataFrame | pl.LazyFrame | None = None,
        currency: str = "EUR",
    ) -> Portfolio:
        """Validate Polars frames (columns as in the ``*_SCHEMA`` constants; only the ids are
        required). Without ``objectives``, the objectives are the ones contributions name."""
        acts = _check_activities(_conform("activities", activities))
        contribs = _conform("contributions", _or_empty(contributions, CONTRIBUTION_SCHEMA))
        if objectives is None:
            ids = contribs.get_column("objective").unique(maintain_order=True)
            objs = pl.DataFrame({"id": ids, "parent": None, "title": ids}, schema=OBJECTIVE_SCHEMA)
        else:
            objs = _conform("objectives", objectives)
        objs = _check_objectives(objs)
        act_ids = acts.get_column("id")
        contribs = _check_contributions(contribs, act_ids, objs.get_column("id"))
        parts = _conform("participations", _or_empty(participations, PARTICIPATION_SCHEMA))
        parts = _check_participations(parts, act_ids)
        regs = _check_regions(_conform("regions", _or_empty(regions, REGION_SCHEMA)))
        return cls(acts, contribs, parts, objs, regs, currency)

    @classmethod
    def from_records(
        cls,
        activities: Iterable[Mapping[str, Any]],
        contributions: Iterable[Mapping[str, Any]] = (),
        participations: Iterable[Mapping[str, Any]] = (),
        objectives: Iterable[Mapping[str, Any]] | None = None,
        regions: Iterable[Mapping[str, Any]] = (),
        currency: str = "EUR",
    ) -> Portfolio:
        """Validate plain mappings whose keys are the schema's column names.

        Types are checked per record (a budget must be a number, regions a list of strings)
        and values per table (a weight between 0 and 1, a contribution to a known
        activity); either failure raises :class:`PortfolioError` naming record and field.
        """
        objs = None if objectives is None else _parse_records("objectives", objectives)
        return cls.from_frames(
            _parse_records("activities", activities),
            _parse_records("contributions", contributions),
            _parse_records("participations", participations),
            objs,
            _parse_records("regions", regions),
            currency,
        )

    @classmethod
    def from_documents(
        cls,
        activities: Iterable[Mapping[str, Any]],
        objectives: Iterable[Mapping[str, Any]] | None = None,
        regions: Iterable[Mapping[str, Any]] = (),
        currency: str = "EUR",
        missing_budget: Literal["error", "zero"] = "error",
    ) -> Portfolio:
        """Build from mission-map document parts (``ActivityDoc``, ``ObjectiveDoc``,
        ``RegionFields`` shaped dicts, as the connectors return them).

        ``budget`` is the activity's ``public_contribution``; ``year`` the year of its
        ``start``; participations and contributions come from the activity's
        ``organisations`` and ``contributions``. A region's ``scoreboard_group`` becomes its
        ``group``. ``missing_budget="zero"`` counts an unknown public contribution as 0
        instead of rejecting the activity.
        """
        acts: list[dict[str, Any]] = []
        contribs: list[dict[str, Any]] = []
        parts: list[dict[str, Any]] = []
        for index, doc in enumerate(activities):
            identifier = doc.get("identifier")
            budget = doc.get("public_contribution")
            if budget is None:
                if missing_budget == "error":
                    raise PortfolioError(
                        "activities", index, identifier, "public_contribution", "is required"
                    )
                budget = 0.0
            start = doc.get("start")
            acts.append(
                {
                    "id": identifier,
                    "title": doc.get("title"),
                    "budget": float(budget),
                    "instrument": doc.get("instrument"),
                    "stage": doc.get("stage"),
                    "trl_min": doc.get("trl_min"),
                    "trl_max": doc.get("trl_max"),
                    "call": doc.get("call"),
                    "year": int(str(start)[:4]) if start else None,
                    "regions": list(doc.get("regions") or []),
                    "sectors": list(doc.get("sectors") or []),
                }
            )
            for link in doc.get("organisations") or []:
                parts.append(
                    {"activity": identifier, "organisation": link.get("organisation"),
                     "role": link.get("role")}
                )  # fmt: skip
            for link in doc.get("contributions") or []:
                contribs.append(
                    {"activity": identifier, "objective": link.get("objective"),
                     "weight": link.get("weight"), "provenance": link.get("provenance"),
                     "score": link.get("score")}
                )  # fmt: skip
        objs = None
        if objectives is not None:
            objs = [
                {"id": o.get("slug", o.get("id")), "parent": o.get("parent"),
                 "title": o.get("title")}
                for o in objectives
            ]  # fmt: skip
        regs = [
            {"code": r.get("code"), "name": r.get("name"), "level": r.get("level"),
             "parent": r.get("parent"),
             "population": None if r.get("population") is None else float(r["population"]),
             "gdp_per_head": r.get("gdp_per_head"), "need": r.get("need"),
             "group": r.get("scoreboard_group", r.get("group"))}
            for r in regions
        ]  # fmt: skip
        return cls.from_records(acts, contribs, parts, objs, regs, currency)

    # --- derived frames, computed once ----------------------------------------------------

    @property
    def total_budget(self) -> float:
        """The sum of every activity's budget."""
        return float(self.activities.get_column("budget").sum())

    @cached_property
    def allocation(self) -> pl.DataFrame:
        """Contributions with each weight normalised per activity.

        Columns: ``activity``, ``objective``, ``provenance``, ``score``, ``weight`` (as
        given), ``share`` (the part of the activity's budget assigned to the objective) and
        ``budget`` (the activity budget times ``share``). Weights are used as given while an
        activity's weights sum to at most 1 (the rest of its budget stays unallocated);
        above 1 each is divided by the sum, so an activity's budget is never counted more
        than once.
        """
        budgets = self.activities.select(pl.col("id").alias("activity"), "budget")
        total = pl.col("weight").sum().over("activity")
        return (
            self.contributions.join(budgets, on="activity", how="left")
            .with_columns((pl.col("weight") / pl.max_horizontal(total, pl.lit(1.0))).alias("share"))
            .with_columns((pl.col("budget") * pl.col("share")).alias("budget"))
            .select("activity", "objective", "provenance", "score", "weight", "share", "budget")
        )

    @cached_property
    def numbered_allocation(self) -> pl.DataFrame:
        """``activity`` (the activity's row number in ``activities``, UInt32),
        ``objective``, ``share`` of the allocation: the cross-tabulations join on these
        integers instead of on id strings (several times faster at a million activities)."""
        numbers = self.activities.select("id").with_row_index("number")
        return self.allocation.join(
            numbers, left_on="activity", right_on="id", how="left", maintain_order="left"
        ).select(pl.col("number").alias("activity"), "objective", "share")

    @cached_property
    def numbered_rollup(self) -> pl.DataFrame:
        """Objective parts by activity row number with each objective's fraction also
        credited to its ancestors (``activity``, ``value``, ``fraction``): four analyses
        of a report cross-tabulate it, so it is computed once."""
        from missionkit.portfolio.parts import rolled_objective_parts  # imports this module

        return rolled_objective_parts(self)

    def objective_titles(self) -> dict[str, str]:
        """Objective id -> title."""
        ids = self.objectives.get_column("id").to_list()
        titles = self.objectives.get_column("title").to_list()
        return dict(zip(ids, titles, strict=True))


def _or_empty(
    frame: pl.DataFrame | pl.LazyFrame | None, schema: Mapping[str, pl.DataType]
) -> pl.DataFrame | pl.LazyFrame:
    return pl.DataFrame(schema=dict(schema)) if frame is None else frame
