"""The learned sentence ranker: its features on the real seed index, the weights file, and the
training pieces that must not silently change (the split, the folds, the fit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.squad import SquadQuestion, split_titles, title_of
from eval.train import Collected, cross_validate, fit_linear, folds_of, stack, top_one
from server.answerer import Options
from server.features import FEATURES, Features
from server.ranker import MODEL_FILE, Linear, Ranker, RankerMissing, write_ranker


def test_the_split_is_by_title_first_half_trains() -> None:
    titles = ["Zebra", "Apple", "Mango", "Banana"]
    questions = [SquadQuestion(f"q{i}", "?", f"{t}-{i:04d}", ("a",)) for i, t in enumerate(titles)]
    train = {title_of(q.doc_id) for q in split_titles(questions, "train")}
    test = {title_of(q.doc_id) for q in split_titles(questions, "test")}
    assert train == {"Apple", "Banana"} and test == {"Mango", "Zebra"}
    assert len(split_titles(questions, "all")) == 4


def test_folds_keep_an_article_in_one_fold_and_are_fixed() -> None:
    groups = [f"title{i % 9}" for i in range(40)]
    assert folds_of(groups) == folds_of(list(reversed(groups)))  # by name, not by order of arrival
    assert set(folds_of(groups).values()) == {0, 1, 2, 3}


def test_top_one_reads_the_best_quotable_candidate() -> None:
    scores = np.array([0.9, 0.5, 0.1])
    labels = np.array([True, False, True])
    assert top_one(scores, labels, np.array([True, True, True])) == 1.0
    assert top_one(scores, labels, np.array([False, True, True])) == 0.0  # the heading may not be quoted
    assert top_one(scores, labels, np.array([False, False, False])) == 0.0


def synthetic(n_questions: int = 60, seed: int = 0) -> Collected:
    """Questions whose answer sentence is the one with the highest `coverage` plus noise."""
    rng = np.random.default_rng(seed)
    data = Collected()
    for q in range(n_questions):
        rows = rng.normal(size=(12, len(FEATURES)))
        answer = int(rng.integers(12))
        rows[answer, FEATURES.index("coverage")] += 3.0
        data.rows.append(rows)
        data.labels.append(np.arange(12) == answer)
        data.hand.append(rows[:, FEATURES.index("dense")])  # a "hand" score that ignores the signal
        data.body.append(np.ones(12, dtype=bool))
        data.group.append(f"article{q % 8}")
        data.weight.append(1.0)
        data.source.append("squad")
        data.answerable.append(True)
    return data


def test_the_fit_finds_the_evidence_that_matters() -> None:
    data = synthetic()
    model = fit_linear(*stack(data, range(len(data.rows))), FEATURES, 1.0)
    coef = dict(zip(model.names, model.coef, strict=True))
    assert max(coef, key=lambda k: coef[k]) == "coverage"
    held_out = cross_validate(data, FEATURES, "linear", 1.0)["squad"]
    without = cross_validate(data, FEATURES, "linear", 1.0, drop="coverage")["squad"]
    assert held_out > 0.8 and without < 0.3  # the ablation of the one informative feature shows


def test_a_feature_switched_off_sits_at_its_mean(tmp_path: Path) -> None:
    model = Linear(("a", "b"), (1.0, 2.0), (1.0, 1.0), (2.0, -1.0), 0.0)
    path = tmp_path / "ranker.json"
    write_ranker(path, model, {"fitted_on": "test"})
    ranker = Ranker.load(path, ("a", "b"))
    rows = np.array([[3.0, 2.0], [1.0, 5.0]])
    assert ranker.probability(rows)[0] > 0.9 and ranker.probability(rows)[1] < 0.1
    assert np.allclose(ranker.probability(rows, off={"a", "b"}), 0.5)
    assert ranker.sha256 and ranker.about == {"fitted_on": "test"}


def test_a_weights_file_for_other_features_or_broken_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    write_ranker(path, Linear(("a",), (0.0,), (1.0,), (1.0,), 0.0), {})
    with pytest.raises(RankerMissing, match="make train"):
        Ranker.load(path, FEATURES)
    path.write_text("{not json")
    with pytest.raises(RankerMissing, match="make train"):
        Ranker.load(path, FEATURES)
    with pytest.raises(RankerMissing, match="make train"):
        Ranker.load(tmp_path / "missing.json", FEATURES)


def test_the_committed_weights_match_the_features_and_say_what_they_were_fitted_on() -> None:
    ranker = Ranker.load(MODEL_FILE, FEATURES)
    fitted = ranker.about["fitted_on"]
    assert fitted["gold"] == "gold.jsonl" and "first" in fitted["squad"]
    raw = json.loads(MODEL_FILE.read_text())
    assert "check" not in json.dumps(raw["about"]).lower()  # never fitted on the held-out check set


def test_features_on_the_seed_index_are_named_bounded_and_typed(answerer) -> None:  # type: ignore[no-untyped-def]
    prepared = answerer.prepare("When did Lavrov confirm the agreement?")
    qvec = answerer.embedder.embed_queries([prepared.query])[0]
    pool, ranked = answerer.rank(prepared, qvec)
    feats = answerer.features(prepared, qvec, pool)
    assert len(feats) == len(pool.ids) > 5 and all(isinstance(f, Features) for f in feats)
    for f in feats:
        assert -1 <= f.dense <= 1 and f.dense_gap <= 1e-6 and 0 <= f.coverage <= 1
        assert f.answer_type in (-1.0, 1.0)  # "when" is typed: each sentence holds a date or does not
        assert 0 < f.position <= 1 and f.heading in (0.0, 1.0)
    assert max(f.dense_gap for f in feats) == pytest.approx(0.0, abs=1e-6)
    assert ranked[0].features is not None  # the product ranks by the fitted model
    top = answerer.index.sentences[ranked[0].sentence].text
    assert "Lavrov" in top or "October" in top


def test_switching_the_ranker_off_uses_the_hand_set_weights(answerer) -> None:  # type: ignore[no-untyped-def]
    prepared = answerer.prepare("What did Lavrov say about the agreement?")
    qvec = answerer.embedder.embed_queries([prepared.query])[0]
    _, hand = answerer.rank(prepared, qvec, Options(learned_ranker=False))
    _, fitted = answerer.rank(prepared, qvec)
    assert all(c.features is None for c in hand) and all(c.features is not None for c in fitted)
    assert all(0 <= c.score <= 1 for c in fitted)  # probabilities
    assert {c.sentence for c in hand} == {c.sentence for c in fitted}  # the same pool, ranked otherwise


def test_trees_are_evaluated_exactly_as_lightgbm_scores_them() -> None:
    import lightgbm

    from eval.train import TREE_PARAMS
    from server.ranker import Trees

    data = synthetic(40, seed=1)
    x, y, w = stack(data, range(len(data.rows)))
    booster = lightgbm.train(TREE_PARAMS, lightgbm.Dataset(x, y.astype(float), weight=w), 30)
    trees = Trees.from_dump(FEATURES, list(x.mean(axis=0)), booster.dump_model())
    assert np.allclose(trees.logits(x), booster.predict(x, raw_score=True), atol=1e-9)
    again = Trees.from_json(json.loads(json.dumps(trees.to_json())))
    assert np.allclose(again.logits(x[:7]), trees.logits(x[:7]))


def random_trees(seed: int, leaves: int, trees: int = 20, features: int = 5):  # type: ignore[no-untyped-def]
    """Random trees of `leaves` leaves each, as a LightGBM dump read by Trees.from_dump; thresholds from a
    few values (so rows fall on them)."""
    from server.ranker import Trees

    rng = np.random.default_rng(seed)

    def grow(n: int) -> dict[str, object]:
        if n == 1:
            return {"leaf_value": float(rng.normal())}
        cut = int(rng.integers(1, n))
        return {"split_feature": int(rng.integers(features)), "threshold": float(rng.integers(-3, 4)) / 2,
                "decision_type": "<=", "left_child": grow(cut), "right_child": grow(n - cut)}

    dump = {"tree_info": [{"tree_structure": grow(leaves)} for _ in range(trees)]}
    return Trees.from_dump([f"f{i}" for i in range(features)], [0.0] * features, dump)


@pytest.mark.parametrize("leaves", [1, 2, 15, 16, 17, 40, 64, 65])
def test_leaf_tables_find_the_leaves_walking_the_trees_finds(leaves: int) -> None:
    trees = random_trees(leaves, leaves)
    assert (trees.tables is None) == (leaves > 64)  # wider trees are walked
    rng = np.random.default_rng(leaves)
    rows = np.concatenate([rng.normal(size=(50, 5)), rng.integers(-3, 4, size=(50, 5)) / 2])  # on thresholds too
    assert np.array_equal(trees.logits(rows), trees.walk(rows))  # the same leaves: the same sums, bit for bit
    committed = Ranker.load(MODEL_FILE, FEATURES).model
    assert isinstance(committed, type(trees)) and committed.tables is not None
    wide = rng.normal(size=(200, len(FEATURES)))
    assert np.array_equal(committed.logits(wide), committed.walk(wide))


def test_feature_rows_are_the_named_features_and_read_each_sentence_once(answerer) -> None:  # type: ignore[no-untyped-def]
    from server.sentence_view import SentenceViews

    prepared = answerer.prepare("When did Lavrov confirm the agreement?")
    qvec = answerer.embedder.embed_queries([prepared.query])[0]
    pool, _ = answerer.rank(prepared, qvec)
    rows = answerer.feature_rows(prepared, qvec, pool)
    assert rows.shape == (len(pool.ids), len(FEATURES))
    assert np.array_equal(rows, np.array([f.vector() for f in answerer.features(prepared, qvec, pool)]))
    i = pool.ids[0]
    assert answerer.views[i] is answerer.views[i]  # made once, kept
    index = answerer.index
    unannotated = SentenceViews(index.sentences, answerer.texts, [], answerer.sentence_terms, answerer.position,
                                answerer.previous)
    assert unannotated[i].entities is None and not unannotated[i].lemmas and answerer.views[i].lemmas


def test_sentence_views_keep_only_the_last_ones_asked_for(answerer) -> None:  # type: ignore[no-untyped-def]
    from server.sentence_view import SentenceViews

    index = answerer.index
    views = SentenceViews(index.sentences, answerer.texts, index.annotations, answerer.sentence_terms,
                          answerer.position, answerer.previous, kept=2)
    first = views[0]
    assert views[0] is first and views[1] is not first
    views[2]  # noqa: B018 - three asked for, two kept: the first one goes
    again = views[0]
    assert again is not first and again == first  # made anew, and the same


def test_training_collects_without_reading_the_fitted_ranker(answerer) -> None:  # type: ignore[no-untyped-def]
    from server.answerer import Answerer

    # make train must run after a feature change, when server/ranker.json was fitted on other features
    collecting = Answerer(answerer.index, answerer.embedder, answerer.settings, fitted=False)
    assert collecting.ranker is None and answerer.ranker is not None
    prepared = collecting.prepare("When did Lavrov confirm the agreement?")
    qvec = collecting.embedder.embed_queries([prepared.query])[0]
    _, ranked = collecting.rank(prepared, qvec)
    assert ranked and all(c.features is None for c in ranked)  # the hand-set ranking
