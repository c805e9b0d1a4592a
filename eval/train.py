"""`python -m eval train` (make train): fit the sentence ranker from scratch and write
server/ranker.json.

Training data, and only this (eval/README.md, "Training and the split"):
- SQuAD v1.1 dev, the 24 articles whose titles sort first (4,807 questions), asked against the index
  of all 48 articles: every candidate sentence the answerer considers, labelled by whether it holds a
  reference answer.
- eval/gold.jsonl over the seed articles: candidates labelled by whether they overlap a gold quote or
  hold an answer keyword.
Never SQuAD's other 24 articles, eval/check.jsonl or SciFact's test queries.

The model is chosen by cross-validation over the training articles (folds by article, so no article
is both fitted and scored), and the figures printed are those folds' held-out ones. Deterministic:
fixed folds, a deterministic solver; the same data give the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.calibrate import fit_logistic
from server.abstain import Calibration, write_calibration
from server.extract import Weights
from server.features import FEATURES
from server.ranker import Linear, Model, Ranker, Trees

SEED = 13
FOLDS = 4
GOLD_WEIGHT = 10.0  # a gold question weighs this many SQuAD ones: the product's domain is news
C_GRID = (0.01, 0.1, 1.0)  # inverse regularisation strengths tried, chosen by cross-validation
Say = Callable[[str], None]
Label = Callable[[int], bool]  # sentence index -> holds the answer


@dataclass
class Collected:
    """Per question: candidate feature rows, labels, the hand-set weights' scores, and its group."""

    rows: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    hand: list[np.ndarray] = field(default_factory=list)  # the hand-set weights' score of each candidate
    body: list[np.ndarray] = field(default_factory=list)  # not a heading: a sentence that may be quoted
    group: list[str] = field(default_factory=list)  # article (SQuAD title or gold doc), for the folds
    weight: list[float] = field(default_factory=list)
    source: list[str] = field(default_factory=list)  # "squad" or "gold"
    answerable: list[bool] = field(default_factory=list)  # False: asked of an index without its article
    extra: list[tuple[float, float, float]] = field(default_factory=list)  # best passage dense, BM25; names known

    def add(self, answerer: Any, question: str, label: Label, group: str, weight: float, source: str,
            answerable: bool = True, exclude: frozenset[str] = frozenset()) -> None:
        """One question's candidates, exactly as the answerer pools them."""
        from server.answerer import Options
        from server.query import names_known

        prepared = answerer.prepare(question, 10)
        qvec = answerer.embedder.embed_queries([prepared.query])[0]
        hits, qterms = answerer.retrieve(prepared.query, qvec, 10, "hybrid", exclude=exclude)
        pool, ranked = answerer.rank(prepared, qvec, Options(learned_ranker=False), hits, qterms, exclude)
        if not pool.ids:
            return
        features = answerer.features(prepared, qvec, pool)
        self.extra.append((max((h.dense for h in hits), default=0.0), max((h.lexical for h in hits), default=0.0),
                           names_known(prepared.query, answerer.vocabulary)))
        self.answerable.append(answerable)
        hand = {c.sentence: c.score for c in ranked}
        sentences = answerer.index.sentences
        self.rows.append(np.array([f.vector() for f in features], dtype=np.float64))
        self.labels.append(np.array([label(i) for i in pool.ids], dtype=bool))
        self.hand.append(np.array([hand[i] for i in pool.ids]))
        self.body.append(np.array([not sentences[i].heading for i in pool.ids], dtype=bool))
        self.group.append(group)
        self.weight.append(weight)
        self.source.append(source)


def top_one(scores: np.ndarray, labels: np.ndarray, body: np.ndarray) -> float:
    """1 when the best-scoring quotable candidate holds the answer (the top quote's main sentence)."""
    if not body.any():
        return 0.0
    idx = np.where(body)[0]
    return float(labels[idx[int(np.argmax(scores[idx]))]])


def stack(data: Collected, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, labels and row weights of the questions `ids`; each question's weight is spread over its
    candidates, so a question with many candidates counts no more than one with few."""
    x = np.vstack([data.rows[n] for n in ids])
    y = np.concatenate([data.labels[n] for n in ids])
    w = np.concatenate([np.full(len(data.rows[n]), data.weight[n] * 30.0 / len(data.rows[n])) for n in ids])
    return x, y, w


def fit_linear(x: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str], c: float) -> Linear:
    """Logistic regression on standardised features (scikit-learn, lbfgs: deterministic)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y, sample_weight=w)
    return Linear(tuple(names), tuple(map(float, mean)), tuple(map(float, scale)),
                  tuple(map(float, model.coef_[0])), float(model.intercept_[0]))


TREE_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 40,
               "feature_fraction": 0.9, "lambda_l2": 1.0, "num_threads": 1, "deterministic": True,
               "force_row_wise": True, "seed": SEED, "verbose": -1}
TREE_ROUNDS = 300


def fit_trees(x: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str]) -> Trees:
    """Gradient-boosted trees, deterministic (one thread, fixed seed)."""
    import lightgbm

    booster = lightgbm.train(TREE_PARAMS, lightgbm.Dataset(x, y.astype(float), weight=w), TREE_ROUNDS)
    return Trees.from_dump(names, list(map(float, x.mean(axis=0))), booster.dump_model())


def fit(kind: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str], c: float) -> Model:
    return fit_trees(x, y, w, names) if kind == "trees" else fit_linear(x, y, w, names, c)


def folds_of(groups: Sequence[str]) -> dict[str, int]:
    """Each group's fold: groups in a seeded random order, dealt round-robin."""
    order = sorted(set(groups))
    rng = np.random.default_rng(SEED)
    return {g: n % FOLDS for n, g in enumerate(rng.permutation(order).tolist())}


def cross_validate(data: Collected, names: Sequence[str], kind: str, c: float = 1.0,
                   drop: str | None = None) -> dict[str, float]:
    """Top-1 accuracy of the fitted ranker on the held-out fold, pooled over folds, by source; with
    `drop`, that feature is left out of the fit."""
    keep = [n for n, name in enumerate(names) if name != drop]
    fold = folds_of(data.group)
    positive = [n for n in range(len(data.rows)) if data.answerable[n] and data.labels[n].any()]
    scores: dict[int, float] = {}
    for k in range(FOLDS):
        train = [n for n in positive if fold[data.group[n]] != k]
        x, y, w = stack(data, train)
        model = fit(kind, x[:, keep], y, w, [names[i] for i in keep], c)
        for n in range(len(data.rows)):
            if fold[data.group[n]] == k and data.answerable[n]:
                scores[n] = top_one(model.logits(data.rows[n][:, keep]), data.labels[n], data.body[n])
    return by_source(data, scores)


def by_source(data: Collected, scores: dict[int, float]) -> dict[str, float]:
    found = {}
    for source in sorted(set(data.source)):
        ids = [n for n in scores if data.source[n] == source]
        found[source] = float(np.mean([scores[n] for n in ids])) if ids else 0.0
    return found


def hand_figures(data: Collected) -> dict[str, float]:
    return by_source(data, {n: top_one(data.hand[n], data.labels[n], data.body[n]) for n in range(len(data.rows))
                            if data.answerable[n]})


RATIOS = tuple(round(0.05 * k, 2) for k in range(2, 20))  # 0.10 ... 0.95


def quoted(scores: np.ndarray, body: np.ndarray, ratio: float, most: int = 3) -> int:
    """How many sentences an answer quotes: those scoring at least `ratio` of the best (at most `most`)."""
    mine = scores[body]
    if not len(mine):
        return 0
    best = float(mine.max())
    floor = best * ratio if best > 0 else best
    return min(most, int(np.sum(mine >= floor)))


def keep_ratio(data: Collected, probabilities: dict[int, np.ndarray], hand_ratio: float) -> float:
    """The share of the best sentence's probability a further quote needs so that answers quote as many
    sentences, on the training questions, as under the hand-set weights and their ratio: answers no
    longer than before, the ranker deciding which sentences they are."""
    ids = sorted(probabilities)
    budget = np.mean([quoted(data.hand[n], data.body[n], hand_ratio) for n in ids])
    return min(RATIOS, key=lambda r: (abs(np.mean([quoted(probabilities[n], data.body[n], r) for n in ids]) - budget),
                                      -r))


def fold_rankers(data: Collected, kind: str, c: float) -> dict[int, Ranker]:
    """The chosen model fitted once per fold without that fold's articles."""
    fold = folds_of(data.group)
    positive = [n for n in range(len(data.rows)) if data.answerable[n] and data.labels[n].any()]
    return {k: Ranker(fit(kind, *stack(data, [n for n in positive if fold[data.group[n]] != k]), FEATURES, c), "", {})
            for k in range(FOLDS)}


def evidence(data: Collected, n: int, ranker: Ranker) -> Any:
    """Question n's Evidence as the answerer computes it, its sentences scored by `ranker`."""
    from server.abstain import evidence_of

    rows, body = data.rows[n], data.body[n]
    scores = ranker.probability(rows)
    ids = np.where(body)[0] if body.any() else np.arange(len(rows))
    order = ids[np.argsort(-scores[ids], kind="stable")]
    best = rows[order[0]]
    col = {name: FEATURES.index(name) for name in ("dense", "coverage", "answer_type")}
    passage_dense, bm25, known = data.extra[n]
    return evidence_of((float(best[col["dense"]]), float(best[col["coverage"]]), bool(best[col["answer_type"]] >= 0)),
                       float(scores[order[0]]), float(scores[order[1]]) if len(order) > 1 else 0.0,
                       passage_dense, bm25, known)


def fit_abstainer(data: Collected, rankers: dict[int, Ranker], say: Say) -> tuple[Calibration, dict[str, Any]]:
    """The abstention model on every question's evidence, each scored by a ranker that never saw its
    article (so the ranker's probability is as it will be on new questions); its own rates
    cross-validated over the same folds."""
    fold = folds_of(data.group)
    x = np.array([evidence(data, n, rankers[fold[data.group[n]]]).vector() for n in range(len(data.rows))])
    y = np.array(data.answerable, dtype=float)
    # each source weighs as much as the other in all: the product's domain (news) is the gold set's,
    # and SQuAD's thousands of questions would otherwise set the threshold for Wikipedia prose
    totals = {source: sum(1 for s in data.source if s == source) for source in set(data.source)}
    w = np.array([len(data.source) / (len(totals) * totals[s]) for s in data.source])
    held = np.zeros(len(y))
    for k in range(FOLDS):
        inside = np.array([fold[g] != k for g in data.group])
        part = fit_logistic(x[inside], y[inside], weight=w[inside])
        held[~inside] = 1 / (1 + np.exp(-(x[~inside] @ part.weights + part.bias)))
    whole = fit_logistic(x, y, weight=w)
    rates = {}
    for source in sorted(set(data.source)):
        mine = np.array([s == source for s in data.source])
        ans, una = mine & (y == 1), mine & (y == 0)
        rates[source] = {
            "answerable_wrongly_abstained": round(float(np.mean(held[ans] < 0.5)), 4) if ans.any() else None,
            "unanswerable_answered": round(float(np.mean(held[una] >= 0.5)), 4) if una.any() else None}
        say(f"  abstainer, {source}: answerable wrongly abstained {rates[source]['answerable_wrongly_abstained']}, "
            f"unanswerable answered {rates[source]['unanswerable_answered']} (cross-validated, threshold 0.5)")
    from server.abstain import FEATURES as EVIDENCE

    return Calibration(tuple(float(v) for v in whole.weights), float(whole.bias)), {
        "cross_validated": rates, "features": list(EVIDENCE)}


def collect_gold(gold_path: Path, out: Collected, say: Say, progress: bool) -> None:
    """The gold questions over the seed index (built incrementally in the settings' index_dir)."""
    from tqdm import tqdm

    from eval.gold import load_gold, quote_spans
    from eval.run import CachedEmbedder
    from index.build import build
    from index.load import load_folder
    from index.settings import Settings
    from server.answerer import Answerer

    settings = Settings()
    build(settings, progress=False, say=lambda _: None)
    loaded = Answerer.load(settings, fitted=False)  # the ranker is what this fits
    answerer = Answerer(loaded.index, CachedEmbedder(loaded.embedder), settings, fitted=False)
    texts = {a.doc_id: a.text for a in load_folder(settings.articles_dir, settings.max_article_mb).articles}
    sentences = answerer.index.sentences
    gold = load_gold(gold_path)
    for q in tqdm(gold, desc="Gold questions", unit="question", disable=not progress):
        spans = quote_spans(q, texts) if q.answerable else []
        keywords = [" ".join(k.split()).casefold() for k in q.answer_keywords]

        def label(i: int, spans: Sequence[tuple[int, int]] = spans, keywords: list[str] = keywords,
                  doc: str | None = q.gold_doc) -> bool:
            s = sentences[i]
            flat = " ".join(s.text.split()).casefold()
            return (s.doc_id == doc and any(a < s.end and s.start < b for a, b in spans)) or \
                any(k in flat for k in keywords)

        out.add(answerer, q.question, label, f"gold:{q.gold_doc or q.id}", GOLD_WEIGHT, "gold", q.answerable)
    say(f"Gold: {len(gold)} questions ({sum(q.answerable for q in gold)} answerable).")


def collect_squad(path: Path, index_dir: Path, out: Collected, say: Say, progress: bool,
                  limit: int | None = None) -> int:
    """The training half of SQuAD dev."""
    from tqdm import tqdm

    from eval.squad import encode_all, holds_answer, split_titles, squad_answerer, title_of
    from server.query import repair

    answerer, questions, _, _ = squad_answerer(path, index_dir, progress, say, fitted=False)
    questions = split_titles(questions, "train")[:limit]
    encode_all(answerer, [repair(q.question.strip(), answerer.vocabulary) for q in questions], progress)
    sentences = answerer.index.sentences
    docs_of: dict[str, set[str]] = {}
    for doc_id in answerer.index.articles:
        docs_of.setdefault(title_of(doc_id), set()).add(doc_id)
    for q in tqdm(questions, desc="SQuAD training questions", unit="question", disable=not progress):
        def label(i: int, answers: tuple[str, ...] = q.answers) -> bool:
            return holds_answer(sentences[i].text, answers)

        title = title_of(q.doc_id)
        out.add(answerer, q.question, label, title, 1.0, "squad")
        # the same question of an index without any paragraph of its article: it should abstain
        out.add(answerer, q.question, label, title, 1.0, "squad", False, frozenset(docs_of[title]))
    say(f"SQuAD training half: {len(questions)} questions, each also asked without its article.")
    return len(questions)


def main(datasets: Path, cache: Path, out: Path, gold_path: Path, limit: int | None = None,
         progress: bool = True, say: Say = print, ablate: bool = True,
         calibration_out: Path | None = None, reuse: bool = False) -> int:
    import pickle

    from server.ranker import write_ranker

    saved = cache / "train-candidates.pickle"  # the collected candidates, for refitting without asking again
    key = (FEATURES, gold_path.read_bytes(), limit)
    if reuse and saved.is_file():
        stored_key, data, n_squad = pickle.loads(saved.read_bytes())
        if stored_key != key:
            raise SystemExit(f"error: {saved} was collected for other features, gold set or limit; run without --reuse")
        say(f"Reusing the candidates collected in {saved}.")
    else:
        data = Collected()
        collect_gold(gold_path, data, say, progress)
        n_squad = collect_squad(datasets / "squad-v1.1" / "dev-v1.1.json", cache / "squad-index", data, say,
                                progress, limit)
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(pickle.dumps((key, data, n_squad)))
    say(f"Candidates: {sum(len(r) for r in data.rows):,} from {len(data.rows):,} questions.")
    hand = hand_figures(data)
    say("Top sentence holds the answer, cross-validated over the training articles (4 folds by article):")
    say(f"  hand-set weights        gold {hand['gold']:.3f}  squad {hand['squad']:.3f}")
    results = {(kind, c): cross_validate(data, FEATURES, kind, c)
               for kind, c in [("linear", c) for c in C_GRID] + [("trees", 0.0)]}
    for (kind, c), r in results.items():
        name = f"logistic, C={c}" if kind == "linear" else f"trees, {TREE_ROUNDS} rounds"
        say(f"  {name:22s}  gold {r['gold']:.3f}  squad {r['squad']:.3f}")
    # the mean of the two sources' accuracies: the product's domain and SQuAD's breadth count alike
    best = max(results, key=lambda k: (results[k]["gold"] + results[k]["squad"], k[0] == "linear", -k[1]))
    kind, c = best
    say(f"Chosen: {kind}" + (f", C={c}" if kind == "linear" else ""))
    ablation: dict[str, dict[str, float]] = {}
    if ablate:
        say("Each feature left out of the fit:")
        for name in FEATURES:
            ablation[name] = cross_validate(data, FEATURES, kind, c, drop=name)
            r = ablation[name]
            say(f"  without {name:14s}  gold {r['gold']:.3f}  squad {r['squad']:.3f}")
    positive = [n for n in range(len(data.rows)) if data.answerable[n] and data.labels[n].any()]
    model = fit(kind, *stack(data, positive), FEATURES, c)
    about = {"fitted_on": {"gold": gold_path.name, "squad": "dev-v1.1, the 24 articles whose titles sort first",
                           "squad_questions": n_squad, "limit": limit},
             "questions_with_an_answer_among_candidates": len(positive), "model": kind, "C": c, "seed": SEED,
             "gold_weight": GOLD_WEIGHT, **({"ablation_top1": ablation} if ablate else {}),
             "cross_validated_top1": {f"{k}" + (f" C={v}" if k == "linear" else ""): r
                                                   for (k, v), r in results.items()}, "hand_set_top1": hand}
    rankers = fold_rankers(data, kind, c)
    fold = folds_of(data.group)
    held = {n: rankers[fold[data.group[n]]].probability(data.rows[n]) for n in range(len(data.rows))
            if data.answerable[n]}
    ratio = keep_ratio(data, held, Weights().keep_ratio)
    about["keep_ratio"] = ratio
    say(f"Further quotes need {ratio:.2f} of the best sentence's probability (the hand-set weights' answer "
        "length on the training questions).")
    say("Abstention (questions as asked, and SQuAD's also of an index without their article):")
    calibration, abstainer = fit_abstainer(data, rankers, say)
    about["abstainer"] = abstainer
    # Measured, not shipped: on the gold set's news questions this abstainer withholds far more right
    # answers than the calibration `make calibrate` fits on the gold set alone (eval/README.md), so the
    # product keeps that one; this candidate is written beside the collected candidates for study.
    candidate = calibration_out or cache / "abstainer-candidate.json"
    write_calibration(candidate, calibration, {"fitted_on": about["fitted_on"], **abstainer})
    say(f"Wrote {candidate} (a candidate abstention model; server/calibration.json is not replaced).")
    digest = write_ranker(out, model, about)
    say(f"Wrote {out} (sha256 {digest[:12]}).")
    if isinstance(model, Linear):
        say("Coefficients (standardised features):")
        for name, coef in sorted(zip(model.names, model.coef, strict=True), key=lambda kv: -abs(kv[1])):
            say(f"  {name:14s} {coef:+.3f}")
    return 0
