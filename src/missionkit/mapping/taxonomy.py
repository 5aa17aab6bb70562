"""Taxonomies: the sets of labels a text can be mapped to.

Three sources: the 17 SDGs (official goal and target texts from the reference data, with
this project's own keyword queries), a mission's objectives, and any CSV/JSON file with
``id, label, description`` and optional ``keywords`` and ``query`` columns.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from missionkit.mapping.query import Query, QuerySyntaxError, any_of, parse


class TaxonomyError(ValueError):
    """A taxonomy that cannot be used; names the row (CSV line, or JSON item) and field."""

    def __init__(self, source: str, row: int | None, field: str | None, reason: str) -> None:
        self.source, self.row, self.field, self.reason = source, row, field, reason
        where = source
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Label:
    """One label: what the embedding compares with and what the query looks for.

    ``texts`` are further reference texts (e.g. an SDG's targets) and ``examples`` the
    texts reviewers confirmed; both join the description as prototypes.
    """

    id: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    query: str | None = None
    texts: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def compiled_query(self) -> Query | None:
        """The label's query: its own, else any of its keywords, else none."""
        if self.query:
            return parse(self.query)
        source = any_of(self.keywords)
        return parse(source) if source else None

    def prototypes(self) -> list[str]:
        """Texts whose embeddings stand for the label."""
        head = f"{self.name}. {self.description}".strip(" .") if self.description else self.name
        return [head, *self.texts, *self.examples]


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of labels with unique ids."""

    name: str
    labels: tuple[Label, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.labels:
            raise TaxonomyError(self.name, None, None, "has no labels")
        seen: set[str] = set()
        for label in self.labels:
            if label.id in seen:
                raise TaxonomyError(self.name, None, "id", f"label {label.id!r} is listed twice")
            seen.add(label.id)

    @property
    def ids(self) -> list[str]:
        return [label.id for label in self.labels]

    def label(self, label_id: str) -> Label:
        for label in self.labels:
            if label.id == label_id:
                return label
        raise KeyError(label_id)

    def with_examples(self, examples: Mapping[str, Sequence[str]]) -> Taxonomy:
        """The same taxonomy with confirmed example texts added to the labels."""
        labels = tuple(
            replace(lb, examples=(*lb.examples, *examples.get(lb.id, ()))) for lb in self.labels
        )
        return replace(self, labels=labels)


_SDG = files("missionkit.reference") / "sdg"


def _read_reference(name: str) -> list[dict[str, str]]:
    text = (_SDG / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@cache
def sdg_taxonomy(
    with_targets: bool = True,
    with_examples: bool = True,
    with_indicators: bool = True,
    leave_out: frozenset[str] = frozenset(),
) -> Taxonomy:
    """The 17 Sustainable Development Goals (A/RES/71/313 texts; see reference/sdg/SOURCE.md).

    Label ids are the goal numbers ("1" … "17"); each label's texts are its targets and
    the indicators' texts, and its examples the project's own hand-labelled texts
    (reference/sdg/examples.csv, the development set), which act as reviewer-confirmed
    examples. ``leave_out`` drops the indicators of those targets (e.g. {"3.4"}), so an
    evaluation can map an indicator's text without that text among the prototypes.
    """
    queries = {row["goal"]: row["query"] for row in _read_reference("queries.csv")}
    targets: dict[str, list[str]] = {}
    if with_targets:
        for row in _read_reference("targets.csv"):
            targets.setdefault(row["target"].split(".")[0], []).append(row["text"])
    if with_indicators:
        seen: set[tuple[str, str]] = set()
        for row in _read_reference("indicators.csv"):
            goal, target = row["indicator"].split(".")[0], row["indicator"].rsplit(".", 1)[0]
            if target not in leave_out and (goal, row["text"]) not in seen:
                seen.add((goal, row["text"]))  # a few indicators repeat under two targets
                targets.setdefault(goal, []).append(row["text"])
    examples: dict[str, list[str]] = {}
    if with_examples:
        for row in _read_reference("examples.csv"):
            for goal in row["sdgs"].split(";"):
                examples.setdefault(goal.strip(), []).append(row["text"])
    labels = tuple(
        Label(
            id=row["goal"],
            name=row["short"],
            description=row["title"],
            query=queries[row["goal"]],
            texts=tuple(targets.get(row["goal"], ())),
            examples=tuple(examples.get(row["goal"], ())),
        )
        for row in _read_reference("goals.csv")
    )
    return Taxonomy("sdg", labels, {"kind": "sdg"})


def objectives_taxonomy(
    name: str,
    objectives: Iterable[Mapping[str, Any]],
    examples: Mapping[str, Sequence[str]] | None = None,
) -> Taxonomy:
    """A mission's objectives as labels (slug, title, description, keywords, query).

    ``examples`` maps an objective slug to the texts of activities reviewers confirmed.
    """
    examples = examples or {}
    labels = []
    for o in objectives:
        slug = str(o["slug"])
        query = o.get("query") or None
        keywords = tuple(o.get("keywords") or ())
        label = Label(
            id=slug,
            name=str(o.get("title") or slug),
            description=str(o.get("description") or ""),
            keywords=keywords,
            query=query,
            examples=tuple(examples.get(slug, ())),
        )
        try:
            label.compiled_query()
        except QuerySyntaxError as e:
            raise TaxonomyError(name, None, "query", f"objective {slug}: {e}") from None
        labels.append(label)
    if not labels:
        raise TaxonomyError(name, None, None, "the mission has no objectives to map to")
    return Taxonomy(name, tuple(labels), {"kind": "mission"})


_LIST_SPLIT = re.compile(r"\s*[;|]\s*")
_FILE_FIELDS = ("id", "label", "description", "keywords", "query", "examples")


def _as_list(value: Any, source: str, row: int, name: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v for v in _LIST_SPLIT.split(value.strip()) if v)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise TaxonomyError(source, row, name, "must be text (';'-separated) or a list of texts")


def _label_from_record(record: Mapping[str, Any], source: str, row: int) -> Label:
    unknown = sorted(set(record) - set(_FILE_FIELDS))
    if unknown:
        raise TaxonomyError(
            source, row, unknown[0], f"unknown field (expected {', '.join(_FILE_FIELDS)})"
        )
    values: dict[str, str] = {}
    for name in ("id", "label", "description", "query"):
        value = record.get(name)
        if value is not None and not isinstance(value, str | int):
            raise TaxonomyError(source, row, name, "must be text")
        values[name] = "" if value is None else str(value).strip()
    if not values["id"]:
        raise TaxonomyError(source, row, "id", "is empty")
    if not values["label"]:
        raise TaxonomyError(source, row, "label", "is empty")
    keywords = _as_list(record.get("keywords"), source, row, "keywords")
    examples = _as_list(record.get("examples"), source, row, "examples")
    label = Label(
        id=values["id"],
        name=values["label"],
        description=values["description"],
        keywords=keywords,
        query=values["query"] or None,
        examples=examples,
    )
    try:
        label.compiled_query()
    except QuerySyntaxError as e:
        raise TaxonomyError(source, row, "query", str(e)) from None
    return label


def taxonomy_from_records(
    records: Iterable[Mapping[str, Any]], source: str, first_row: int = 1
) -> Taxonomy:
    """Labels from dict records; errors name ``source`` and the row (``first_row`` onwards)."""
    labels: list[Label] = []
    seen: dict[str, int] = {}
    for row, record in enumerate(records, start=first_row):
        label = _label_from_record(record, source, row)
        if label.id in seen:
            raise TaxonomyError(source, row, "id", f"{label.id!r} repeats row {seen[label.id]}")
        seen[label.id] = row
        labels.append(label)
    if not labels:
        raise TaxonomyError(source, None, None, "has no labels")
    return Taxonomy(source, tuple(labels), {"kind": "file"})


def load_taxonomy_file(path: Path) -> Taxonomy:
    """A taxonomy from a CSV (header row) or JSON file (a list of objects, or {"labels": [...]})."""
    source = str(path)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data = data.get("labels")
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise TaxonomyError(source, None, None, 'expected a list of objects or {"labels"}')
            return taxonomy_from_records(data, source, first_row=1)  # item number
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [h for h in ("id", "label") if h not in header]
            if missing:
                raise TaxonomyError(source, 1, missing[0], "column is missing")
            reader.fieldnames = header
            records = []
            for record in reader:
                if None in record:
                    raise TaxonomyError(source, reader.line_num, None, "more cells than columns")
                records.append({k: v for k, v in record.items() if k})
            return taxonomy_from_records(records, source, first_row=2)  # line, header is 1
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as e:
        raise TaxonomyError(source, None, None, f"cannot be read: {e}") from None
