"""A small boolean query language that people can read and edit.

Grammar (case-insensitive; ``AND`` binds tighter than ``OR``; two terms side by side
mean ``AND``, as in a search box)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := "NOT" unary | "(" or ")" | phrase | term
    phrase  := '"' word+ '"'          e.g. "drinking water"
    term    := word | word*            e.g. solar, renewabl*

Words are matched against the lower-cased word tokens of a text, so ``water`` does not
match ``wastewater`` but ``water*`` matches ``waters``. A phrase matches consecutive
tokens, and each of its words may end in ``*``. The explanation of a match is the list
of the terms and phrases that matched (terms under a ``NOT`` never count).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<quote>"[^"]*"?)|(?P<word>[^\s()"]+))')
_OPERATORS = {"AND", "OR", "NOT"}


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, query: str, position: int) -> None:
        self.query, self.position, self.reason = query, position, message
        super().__init__(f"{message} at character {position + 1}: {query!r}")


def words(text: str) -> list[str]:
    """The lower-cased word tokens of ``text`` (letters and digits; hyphens split)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Leaf:
    """One term or phrase: a tuple of words, each either exact or a prefix (``*``)."""

    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        shown = " ".join(w + ("*" if prefix else "") for w, prefix in self.parts)
        return f'"{shown}"' if len(self.parts) > 1 else shown


@dataclass(frozen=True)
class Node:
    op: str  # "leaf", "and", "or", "not"
    leaf: int = -1  # index into Query.leaves for op == "leaf"
    children: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Query:
    """A parsed query: its tree and its distinct leaves (terms and phrases)."""

    source: str
    root: Node
    leaves: tuple[Leaf, ...]
    negated: frozenset[int] = field(default_factory=frozenset)

    def evaluate(self, hits: set[int] | frozenset[int]) -> bool:
        """Whether the query holds, given the indices of the leaves found in a text."""
        return _eval(self.root, hits)

    def explain(self, hits: set[int] | frozenset[int]) -> list[str]:
        """The matched terms that support a match (not the ones under ``NOT``)."""
        return [self.leaves[i].text for i in sorted(hits) if i not in self.negated]

    def match(self, text: str) -> list[str] | None:
        """Matched terms when ``text`` satisfies the query, else None (slow path)."""
        hits = LeafMatcher([self]).hits(words(text))[0]
        return self.explain(hits) if self.evaluate(hits) else None


def _eval(node: Node, hits: set[int] | frozenset[int]) -> bool:
    if node.op == "leaf":
        return node.leaf in hits
    if node.op == "not":
        return not _eval(node.children[0], hits)
    if node.op == "and":
        return all(_eval(c, hits) for c in node.children)
    return any(_eval(c, hits) for c in node.children)


def _parse_word(raw: str, query: str, position: int) -> list[tuple[str, bool]]:
    """A typed word becomes one or more (token, is_prefix) parts; ``co-design`` is two."""
    prefix = raw.endswith("*")
    body = raw[:-1] if prefix else raw
    if "*" in body:
        raise QuerySyntaxError("'*' is only allowed at the end of a word", query, position)
    tokens = words(body)
    if not tokens:
        raise QuerySyntaxError(f"{raw!r} has no letters or digits", query, position)
    if prefix and len(tokens[-1]) < 3:
        raise QuerySyntaxError(
            f"{raw!r}: a wildcard needs at least 3 letters before '*'", query, position
        )
    return [(t, prefix and i == len(tokens) - 1) for i, t in enumerate(tokens)]


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(source):
            m = _TOKEN.match(source, pos)
            if m is None or m.end() == pos:
                if source[pos:].strip() == "":
                    break
                raise QuerySyntaxError("unexpected character", source, pos)
            kind = m.lastgroup or ""
            start = m.start(kind)
            self.tokens.append((kind, m.group(kind), start))
            pos = m.end()
        self.i = 0
        self.leaves: list[Leaf] = []
        self.index: dict[Leaf, int] = {}
        self.negated: set[int] = set()

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def is_op(self, name: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "word" and t[1] == name

    def parse(self) -> Query:
        if not self.tokens:
            raise QuerySyntaxError("the query is empty", self.source, 0)
        root = self.parse_or(negated=False)
        t = self.peek()
        if t is not None:
            what = "')' without a matching '('" if t[0] == "rp" else f"unexpected {t[1]!r}"
            raise QuerySyntaxError(what, self.source, t[2])
        return Query(self.source, root, tuple(self.leaves), frozenset(self.negated))

    def parse_or(self, negated: bool) -> Node:
        children = [self.parse_and(negated)]
        while self.is_op("OR"):
            self.i += 1
            children.append(self.parse_and(negated))
        return children[0] if len(children) == 1 else Node("or", children=tuple(children))

    def parse_and(self, negated: bool) -> Node:
        children = [self.parse_unary(negated)]
        while True:
            t = self.peek()
            if t is None or t[0] == "rp" or self.is_op("OR"):
                break
            if self.is_op("AND"):
                self.i += 1
            children.append(self.parse_unary(negated))
        return children[0] if len(children) == 1 else Node("and", children=tuple(children))

    def parse_unary(self, negated: bool) -> Node:
        t = self.peek()
        end = len(self.source)
        if t is None:
            raise QuerySyntaxError("the query ends where a term was expected", self.source, end)
        kind, text, pos = t
        if kind == "word" and text in _OPERATORS:
            if text != "NOT":
                raise QuerySyntaxError(f"{text} needs a term before it", self.source, pos)
            self.i += 1
            return Node("not", children=(self.parse_unary(not negated),))
        if kind == "rp":
            raise QuerySyntaxError("')' where a term was expected", self.source, pos)
        self.i += 1
        if kind == "lp":
            inner = self.parse_or(negated)
            closing = self.peek()
            if closing is None or closing[0] != "rp":
                raise QuerySyntaxError("'(' is never closed", self.source, pos)
            self.i += 1
            return inner
        if kind == "quote":
            if len(text) < 2 or not text.endswith('"'):
                raise QuerySyntaxError("the quoted phrase is never closed", self.source, pos)
            parts: list[tuple[str, bool]] = []
            for raw in text[1:-1].split():
                parts.extend(_parse_word(raw, self.source, pos))
            if not parts:
                raise QuerySyntaxError("the quoted phrase is empty", self.source, pos)
            return self.leaf(Leaf(tuple(parts)), negated)
        return self.leaf(Leaf(tuple(_parse_word(text, self.source, pos))), negated)

    def leaf(self, leaf: Leaf, negated: bool) -> Node:
        index = self.index.get(leaf)
        if index is None:
            index = self.index[leaf] = len(self.leaves)
            self.leaves.append(leaf)
        if negated:
            self.negated.add(index)
        return Node("leaf", leaf=index)


def parse(source: str) -> Query:
    """Parse a query; raises `QuerySyntaxError` naming the position and the reason."""
    return _Parser(source).parse()


def any_of(terms: Iterable[str]) -> str:
    """A query matching any of ``terms`` (multi-word terms become phrases)."""
    parts = []
    for term in terms:
        tokens = words(term.replace("*", " * ").replace(" * ", "* ").strip())
        if not tokens:
            continue
        wildcard = term.strip().endswith("*")
        body = " ".join(tokens) + ("*" if wildcard else "")
        parts.append(f'"{body}"' if len(tokens) > 1 else body)
    return " OR ".join(dict.fromkeys(parts))


class LeafMatcher:
    """Finds the leaves of many queries in many texts at once.

    A text is scanned once: each distinct word is looked up (and cached) against every
    exact word and wildcard prefix of every query; phrases are then checked on word
    positions only when all their words occur. This keeps matching linear in the text
    length whatever the number of queries.
    """

    def __init__(self, queries: Sequence[Query], cache_size: int = 200_000) -> None:
        self.queries = list(queries)
        self.single: dict[str, list[tuple[int, int]]] = {}
        self.prefixes: dict[str, list[tuple[int, int]]] = {}
        self.phrases: list[tuple[int, int, tuple[tuple[str, bool], ...]]] = []
        part_ids: dict[tuple[str, bool], int] = {}
        self.part_of: list[tuple[str, bool]] = []
        for qi, q in enumerate(self.queries):
            for li, leaf in enumerate(q.leaves):
                for part in leaf.parts:
                    if part not in part_ids:
                        part_ids[part] = len(self.part_of)
                        self.part_of.append(part)
                        target = self.prefixes if part[1] else self.single
                        target.setdefault(part[0], []).append((-1, part_ids[part]))
                if len(leaf.parts) > 1:
                    self.phrases.append((qi, li, leaf.parts))
        self.part_ids = part_ids
        self.leaf_parts = {
            (qi, li): leaf.parts[0]
            for qi, q in enumerate(self.queries)
            for li, leaf in enumerate(q.leaves)
            if len(leaf.parts) == 1
        }
        by_part: dict[int, list[tuple[int, int]]] = {}
        for (qi, li), part in self.leaf_parts.items():
            by_part.setdefault(part_ids[part], []).append((qi, li))
        self.single_leaves = by_part
        # Phrases are only checked when their first word occurs in the text.
        self.phrases_by_first: dict[int, list[tuple[int, int, list[int]]]] = {}
        for qi, li, parts in self.phrases:
            ids = [part_ids[p] for p in parts]
            self.phrases_by_first.setdefault(ids[0], []).append((qi, li, ids))
        self.prefix_lengths = sorted({len(p) for p in self.prefixes}, reverse=True)
        self.cache: dict[str, tuple[int, ...]] = {}
        self.cache_size = cache_size

    def parts_of_word(self, word: str) -> tuple[int, ...]:
        """Ids of the query parts (exact words and prefixes) that ``word`` matches."""
        found = self.cache.get(word)
        if found is not None:
            return found
        ids = [pid for _, pid in self.single.get(word, ())]
        for n in self.prefix_lengths:
            if n <= len(word):
                ids.extend(pid for _, pid in self.prefixes.get(word[:n], ()))
        found = tuple(ids)
        if len(self.cache) >= self.cache_size:
            self.cache.clear()
        self.cache[word] = found
        return found

    def hits(self, tokens: Sequence[str]) -> list[set[int]]:
        """For each query, the indices of its leaves that occur in ``tokens``."""
        out: list[set[int]] = [set() for _ in self.queries]
        positions: dict[int, list[int]] = {}
        for pos, word in enumerate(tokens):
            for pid in self.parts_of_word(word):
                positions.setdefault(pid, []).append(pos)
        for pid in positions:
            for qi, li in self.single_leaves.get(pid, ()):
                out[qi].add(li)
        for pid in positions:
            for qi, li, ids in self.phrases_by_first.get(pid, ()):
                if all(i in positions for i in ids) and _consecutive(positions, ids):
                    out[qi].add(li)
        return out


def _consecutive(positions: dict[int, list[int]], ids: list[int]) -> bool:
    later = [set(positions[i]) for i in ids[1:]]
    return any(all(start + k + 1 in s for k, s in enumerate(later)) for start in positions[ids[0]])
