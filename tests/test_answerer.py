"""The answerer on the seed corpus with the real model: verbatim quotes, citations, abstention."""

from __future__ import annotations

import pytest

from index.records import Sentence
from server.abstain import Calibration, Evidence, confidence
from server.answerer import Answerer, InvalidQuestion, Options
from server.extract import Candidate, with_context
from server.qtype import expected, has_kind
from server.query import Vocabulary, correct, names_known, repair
from server.quoting import Planned, joined
from server.records import Exchange

QUESTIONS = [
    "What did Lavrov say about the agreement?",
    "Has Iran received the Su-35 jets?",
    "Why did bilateral trade fall?",
    "INSTC?",
    "how long would iranians need to learn the s-400",
    "Zangezur corridr",
    "who wrote the Asia Times piece",
    "What is the best lasagna recipe?",
]


def assert_verbatim(answerer: Answerer, answer) -> None:  # type: ignore[no-untyped-def]
    for quote in answer.quotes:
        text = answerer.index.articles[quote.doc_id].text
        assert text[quote.start:quote.end] == quote.text
        assert quote.start <= quote.focus[0] < quote.focus[1] <= quote.end  # the answering sentence, inside
        assert quote.focus[0] <= quote.answer_start < quote.answer_end <= quote.focus[1]  # its answering phrase
        for near, side in ((quote.before, "before"), (quote.after, "after")):
            if near is not None:  # the article's sentence just outside the quote
                assert near.doc_id == quote.doc_id and text[near.start:near.end] == near.text
                assert near.end <= quote.start if side == "before" else near.start >= quote.end
        for cited in quote.also_in:
            assert cited.doc_id != quote.doc_id
            assert 0 <= cited.start < cited.end <= len(answerer.index.articles[cited.doc_id].text)
    for passage in answer.passages:
        assert answerer.index.articles[passage.doc_id].text[passage.start:passage.end] == passage.text


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_quote_is_verbatim(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    assert_verbatim(answerer, answer)
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.abstained == (answer.answer is None) == (not answer.quotes)
    assert len(answer.passages) == 5
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)  # best first, quote-holding passages included
    assert set(answer.timings_ms) >= {"encode", "retrieve", "extract", "total"}
    if answer.quotes:  # the passage holding the best quote leads the passages
        first, lead = answer.quotes[0], answer.passages[0]
        assert lead.doc_id == first.doc_id and lead.start <= first.start < lead.end


def test_lavrov_question(answerer: Answerer) -> None:
    answer = answerer.ask("What did Lavrov say about the agreement?")
    assert not answer.abstained
    first = answer.quotes[0]
    assert first.doc_id.startswith("000_") and "Lavrov confirmed that the agreement would involve" in first.text
    assert first.title == "How allied are Iran and Russia really?"


def test_off_topic_abstains_with_closest_passages(answerer: Answerer) -> None:
    answer = answerer.ask("What is the best lasagna recipe?", top_k=3)
    assert answer.abstained and answer.answer is None and answer.quotes == []
    assert len(answer.passages) == 3 and answer.confidence < 0.5


def test_on_topic_detail_not_given_abstains(answerer: Answerer) -> None:
    answer = answerer.ask("How old is Vladimir Putin?")
    assert answer.abstained


def test_repeated_fact_quoted_once_and_cited_everywhere(answerer: Answerer) -> None:
    answer = answerer.ask("By how much did trade between Russia and Iran fall in 2023?")
    assert not answer.abstained
    docs = [q.doc_id for q in answer.quotes]
    cited = [c.doc_id for q in answer.quotes for c in q.also_in]
    assert "17" in answer.quotes[0].text
    assert len(set(docs)) == len(docs)
    assert {"001_e16f233a03124463", "004_0baecaff5e4cbb7e"} <= set(docs) | set(cited)
    vectors = answerer.index.sentence_vectors
    ids = {(s.doc_id, s.start): i for i, s in enumerate(answerer.index.sentences)}
    starts = [ids[(q.doc_id, q.start)] for q in answer.quotes if (q.doc_id, q.start) in ids]
    for a in starts:
        for b in starts:
            if a != b:
                assert float(vectors[a] @ vectors[b]) < answerer.settings.duplicate_similarity


def test_collapse_off_keeps_duplicates_apart(answerer: Answerer) -> None:
    answer = answerer.ask("By how much did trade between Russia and Iran fall in 2023?",
                          options=Options(collapse_duplicates=False))
    assert all(q.also_in == () for q in answer.quotes)


def test_typo_repaired(answerer: Answerer) -> None:
    answer = answerer.ask("what did lavorv say about the agreement")
    assert "Lavrov" in (answer.answer or "")
    vocab = Vocabulary(__import__("collections").Counter({"corridor": 5, "lavrov": 3}), frozenset({"corridor"}))
    assert correct("corridr", vocab) == "corridor"
    assert repair("Zangezur corridr?", vocab) == "Zangezur corridor?"
    assert correct("the", vocab) is None


def test_author_question(answerer: Answerer) -> None:
    answer = answerer.ask("who wrote the Asia Times piece")
    assert answer.quotes[0].doc_id.startswith("000_") and "Emil Avdaliani" in answer.quotes[0].text


def test_invalid_questions(answerer: Answerer) -> None:
    with pytest.raises(InvalidQuestion, match="empty"):
        answerer.ask("   ")
    with pytest.raises(InvalidQuestion, match="top_k"):
        answerer.ask("INSTC?", top_k=21)


def test_boilerplate_is_never_an_answer(answerer: Answerer) -> None:
    for question in ("What is the Gulf Research Center's phone number?", "Who won Manchester United's match?",
                     "Related posts"):
        answer = answerer.ask(question)
        for quote in answer.quotes:
            assert "Tel:" not in quote.text and "Manchester" not in quote.text


def test_confidence_is_monotone() -> None:
    calibration = Calibration.load()
    base = Evidence(dense=0.4, lexical=0.3, type_ok=1.0, passage_dense=0.4, bm25=0.3, names_known=0.5)
    low = confidence(base, calibration)
    for field in ("dense", "lexical", "passage_dense", "bm25", "names_known"):
        higher = Evidence(**{**base.__dict__, field: getattr(base, field) + 0.2})
        assert confidence(higher, calibration) >= low
    assert all(w >= 0 for w in calibration.weights)


def test_answer_kinds() -> None:
    assert expected("How many Su-35 jets will Russia deliver?").kind == "count"  # type: ignore[union-attr]
    assert not has_kind("Iran awaits Su-35 fighter jets.", expected("how many Su-35 jets"), "how many Su-35 jets")
    assert has_kind("Russia will deliver 24 jets.", expected("how many Su-35 jets"), "how many Su-35 jets")
    assert expected("When will the treaty be signed?").kind == "date"  # type: ignore[union-attr]
    assert has_kind("It will be signed on January 17.", expected("When?"), "When?")
    assert expected("How old is Putin?").kind == "age"  # type: ignore[union-attr]
    assert expected("How much did Iran pay for it?").kind == "money"  # type: ignore[union-attr]
    assert expected("And what does one cost?").kind == "money"  # type: ignore[union-attr]
    assert expected("What does the cost of the war say?") is None
    assert expected("What do they want?") is None
    q = "How many UK viewers watched the film?"  # the counted noun is not always the last word
    assert has_kind("It was watched by 9 million viewers.", expected(q), q)
    q = "How many times did Iran summon the ambassador?"
    assert has_kind("Iran summoned him twice.", expected(q), q)
    # "when" inside a clause does not make a date question
    assert expected("How did Tehran react when Lavrov lobbied for the corridor?") is None
    assert expected("So when did Putin and Pezeshkian meet?").kind == "date"  # type: ignore[union-attr]
    assert expected("What did Russia offer the officials who visited?") is None  # nor "who" in a clause
    assert expected("The deal was signed by who?").kind == "name"  # type: ignore[union-attr]


def test_figures_must_be_of_what_was_asked() -> None:
    q = "What was the value of trade between Iran and Russia in 2021?"
    assert not has_kind("Trade dropped from $4.9 billion in 2022 to $4 billion in 2023.", expected(q), q)
    assert has_kind("Trade stood at $3 billion in 2021.", expected(q), q)
    assert has_kind("Trade has fallen.", expected(q), q)  # states no year: not contradicted
    q = "How long is the Zangezur corridor?"
    assert expected(q).kind == "measure"  # type: ignore[union-attr]
    assert not has_kind("It is part of the 3+3 format agreed in 2021.", expected(q), q)
    assert has_kind("The corridor is 43 km long.", expected(q), q)
    assert has_kind("Training takes at least three months.", expected(q), q)
    assert has_kind("It will aim for a 20-year period.", expected(q), q)
    q = "How long have Iran and Russia been partners?"
    assert has_kind("The two have cooperated for decades.", expected(q), q)
    assert has_kind("They have worked together over many years.", expected(q), q)
    assert has_kind("They have been allies since 1991.", expected(q), q)
    assert not has_kind("They are partners in many fields.", expected(q), q)
    assert not has_kind("They met for talks.", expected(q), q)
    q = "What's the population of Armenia?"
    assert not has_kind("Armenia joined the 3+3 format with 2 other states.", expected(q), q)
    assert has_kind("Armenia has a population of 2.8 million.", expected(q), q)


def test_a_figure_answer_needs_a_specific_term_of_the_question(answerer: Answerer) -> None:
    evaluated = answerer.evaluate("How much is Iran paying Russia for the S-400 system?")
    assert evaluated.evidence is not None
    # the best sentence with a sum of money says nothing of the S-400: no answer of the kind asked
    assert evaluated.evidence.type_ok == 0.0 and evaluated.answer.abstained


def test_person_questions_name_the_office() -> None:
    want = expected("What is the name of Iran's ambassador to Moscow?")
    assert want is not None and (want.kind, want.head) == ("person", "ambassador")
    question = "What is the name of Iran's ambassador to Moscow?"
    assert not has_kind("Iranian President Masoud Pezeshkian visits Russia.", want, question)
    assert has_kind("Iran's ambassador Kazem Jalali met Lavrov.", want, question)
    assert expected("Which official said that?") == expected("which expert said it")  # no office to require
    assert expected("Which former Kremlin adviser said so?").kind == "person"  # type: ignore[union-attr]
    assert expected("Which missiles did Iran send?") is None


def test_names_the_corpus_never_mentions(answerer: Answerer) -> None:
    vocab = answerer.vocabulary
    assert names_known("What did Xi Jinping say about the treaty?", vocab) == 0.0
    assert names_known("What did Lavrov say about the Zangezur corridor?", vocab) == 1.0
    assert names_known("Which Yemeni group did Iran help?", vocab) == 1.0  # "Yemen" is mentioned
    assert names_known("what did lavrov say", vocab) == 1.0  # no capitals: nothing to judge
    assert names_known("Who won in Brighton and in Iran?", vocab) == 0.5
    assert names_known("What was Iran's trade in 2021?", vocab) == 0.5  # the articles give 2022 and 2023
    assert names_known("Has Iran received the Su-35 jets?", vocab) == 1.0
    # a long question is judged on its first 32 distinct names: each unknown one costs a vocabulary scan
    unknown = [f"Zyx{chr(97 + i)}qua" for i in range(26)] + [f"Qwv{chr(97 + i)}zo" for i in range(6)]
    known = [w.capitalize() for w in sorted(vocab.words) if w.isalpha() and len(w) > 5][:200]
    assert names_known("Did " + " ".join(unknown + known) + " say so?", vocab) == 0.0


def test_unknown_names_lower_confidence(answerer: Answerer) -> None:
    asked = answerer.evaluate("What did Lavrov say about the Russia–Iran treaty?")
    unknown = answerer.evaluate("What did Xi Jinping say about the Russia–Iran treaty?")
    assert asked.evidence is not None and unknown.evidence is not None
    assert unknown.evidence.names_known < asked.evidence.names_known
    assert unknown.answer.confidence < asked.answer.confidence


def test_real_words_are_never_corrected(answerer: Answerer) -> None:
    for question in ("What sum did he pledge to pour into the sector?", "Will it rain in Tehran this weekend?",
                     "Why is Russia dragging its feet?", "What is the name of the ambassador?"):
        assert repair(question, answerer.vocabulary) == question
    assert repair("when did lavorv call for the zangezur corridr", answerer.vocabulary) == \
        "when did lavrov call for the zangezur corridor"


def test_same_fact_needs_matching_figures() -> None:
    from server.extract import same_fact

    assert same_fact("Trade fell 17% to $4 billion in 2023.", "In 2023 trade dropped some 17 percent.", 0.8, 0.75)
    assert not same_fact("Putin met Pezeshkian in mid-October.", "They will meet on January 17.", 0.8, 0.75)
    assert not same_fact("Trade fell.", "Trade dropped.", 0.7, 0.75)


def test_country_aliases_fold_for_lexical_matching() -> None:
    from index.text import terms

    assert terms("the Kremlin and Tehran") == terms("Russia and Iran")
    assert terms("Iranian officials") == terms("Iran officials")


def block(*texts: str) -> list[Sentence]:
    """Sentences of one article block, laid end to end."""
    found, at = [], 0
    for text in texts:
        found.append(Sentence("doc", at, at + len(text), text))
        at += len(text) + 1
    return found


def test_quote_widens_to_resolve_what_it_points_back_to() -> None:
    s = block("Iran views Armenia as a crucial ally.", "It therefore protested markedly.", "Trade fell.")
    assert with_context([1], s, "How did Iran respond?", {1: 0.5}) == [0, 1]  # "It" needs its referent
    assert with_context([2], s, "Did trade fall?", {2: 0.5}) == [2]
    # only the answering sentence's reference is resolved: a lesser sentence joined before it is not
    assert with_context([1, 2], s, "Did trade fall?", {1: 0.3, 2: 0.5}) == [1, 2]


def test_quotes_widened_into_each_other_are_one_quote() -> None:
    s = block("Moscow distrusted Tehran.", "After 1991 Russia was less of a threat.", "Their ties warmed later.",
              "Trade grew.") + [Sentence("other", 0, 12, "Trade fell.")]
    c = [Candidate(i, 1.0 - i / 10, 0.5, 0.5, 1.0, True) for i in range(5)]
    plans = [Planned([1, 2], 2, [c[2]]), Planned([0, 1, 2], 0, [c[0]]), Planned([4], 4, [c[4]])]
    found = joined(plans, s)  # the first two share sentences: one quote, answered where the better one is
    assert [(p.ids, p.focus) for p in found] == [([0, 1, 2], 2), ([4], 4)]
    assert [(p.ids, p.focus) for p in joined([Planned([0], 0, [c[0]]), Planned([1, 2], 1, [c[1]])], s)] == \
        [([0, 1, 2], 0)]  # touching in one paragraph: read as one
    assert len(joined([Planned([3], 3, [c[3]]), Planned([4], 4, [c[4]])], s)) == 2  # another article


def test_quote_takes_the_sentence_that_carries_it_on() -> None:
    s = block("At the UN, Iran distanced itself from Russia.", "While it refrained from condemning the invasion, "
              "it did not offer support either.", "Trade fell.")
    question = "Did Iran denounce the invasion at the UN?"
    assert with_context([0], s, question, {0: 0.50, 1: 0.40}, follow=0.75) == [0, 1]
    assert with_context([0], s, question, {0: 0.50, 1: 0.30}, follow=0.75) == [0]  # too weak to join
    assert with_context([1], s, question, {1: 0.50, 2: 0.49}, follow=0.75) == [0, 1]  # "Trade fell." is no sequel


def test_the_answering_phrase_and_the_context_of_a_quote(answerer: Answerer) -> None:
    answer = answerer.ask("when did lavorv call for opening the zangezur corridor")
    first = answer.quotes[0]
    text = answerer.index.articles[first.doc_id].text
    assert text[first.answer_start:first.answer_end] == "August 2023"
    assert first.before is not None and first.after is not None
    sentences = [s for s in answerer.index.sentences if s.doc_id == first.doc_id]
    i = next(n for n, s in enumerate(sentences) if s.start == first.start)
    j = next(n for n, s in enumerate(sentences) if s.end == first.end)  # the quote may join sentences
    assert (first.before.start, first.after.end) == (sentences[i - 1].start, sentences[j + 1].end)
    lavrov = answerer.ask("What did Lavrov say about the agreement?").quotes[0]
    assert (lavrov.answer_start, lavrov.answer_end) == lavrov.focus  # any sentence may answer: all of it
    # "Who is Masoud Pezeshkian?" asks what he is: the sentence answers, not "Putin" or another name in it
    described = answerer.ask("Who is Masoud Pezeshkian?").quotes[0]
    assert (described.answer_start, described.answer_end) == described.focus


def test_a_followup_whose_quote_lacks_the_kind_of_fact_asked_is_withheld_with_low_confidence(
        answerer: Answerer) -> None:
    """The quote found for "how much cargo ..." states no amount: the abstention model reads that as its type
    evidence, so it withholds the answer and the confidence it reports is below the threshold."""
    history: tuple[Exchange, ...] = ()
    for question in ("What does the International North-South Transport Corridor connect Russia to?",
                     "Why does it matter so much for Russia?"):
        earlier = answerer.ask(question, history=history)
        assert not earlier.abstained
        history += (Exchange(earlier.question, tuple((q.doc_id, q.start, q.end) for q in earlier.quotes)),)
    followup = "How much cargo goes through it each year?"
    unchecked = answerer.ask(followup, options=Options(typed_followups=False), history=history)
    assert unchecked.history_used and not unchecked.abstained  # the carried words find the corridor's sentences
    answer = answerer.ask(followup, history=history)
    assert answer.history_used and answer.abstained and not answer.quotes
    assert answer.confidence < answerer.settings.abstain_threshold <= unchecked.confidence


def test_a_model_designation_is_a_product_where_the_tagger_saw_none() -> None:
    from server.sentence_view import designated
    found = designated((("ORG", "ming pao"),), "The bulk could be from the Fateh-110 series, not the S-400 or Su-35.")
    assert ("PRODUCT", "fateh-110") in found and ("PRODUCT", "s-400") in found and ("PRODUCT", "su-35") in found
    # one the tagger found is kept as it is; a year range or a plain hyphenated word is no designation
    tagged = (("PRODUCT", "su-35 fighter jets"),)
    assert designated(tagged, "Su-35 fighter jets") == tagged
    assert designated((), "In 2019-2020 the well-known pro-Western side lost.") == ()


def test_a_designation_is_a_name_and_not_a_quantity_in_the_question_too() -> None:
    from server.qtype import is_quantity
    from server.sentence_view import designated
    # what the sentences' entities count as a product is never a figure; names with digits that are no
    # product ("G20", "H5N1") are no figure either
    for word in ("Su-35", "S-400", "Fateh-110", "Yak-130,"):
        assert not is_quantity(word) and designated((), word.rstrip(","))
    for word in ("G20", "H5N1", "Tu-22M3"):
        assert not is_quantity(word) and not designated((), word)
    for word in ("35", "400", "2019-2020", "20-year", "1,000"):
        assert is_quantity(word) and not designated((), word)


def test_which_missiles_is_answered_by_the_sentence_naming_one(answerer: Answerer) -> None:
    found = answerer.ask("Which missiles might Iran have sent to Russia, according to the Ming Pao article?")
    assert not found.abstained and "Fateh-110" in found.quotes[0].text
