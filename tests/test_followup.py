"""Follow-up questions: the pure resolver (server/followup.py) on its own, then through the answerer with
the real model on the seed articles, and the history's validation through the real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.answerer import Answerer, InvalidQuestion, Options
from server.followup import Turn, dependence, mentions, resolve, resolve_history
from server.records import Answer, Exchange

pytest_plugins = ["live_server"]

REPO = Path(__file__).resolve().parents[1]
JETS = "Has Iran received the Su-35 jets?"


def test_a_bare_why_not_inverts_the_yes_no_question_before_it() -> None:
    found = resolve_history("Why not?", [Turn(JETS)])
    assert found.used and found.unresolved is None
    assert found.question == "why has Iran not received the Su-35 jets?"


def test_ellipsis_puts_the_new_name_in_the_place_of_the_old_one() -> None:
    found = resolve_history("and India?", [Turn("What did Russia say about Iran?")])
    assert found.question == "What did Russia say about India?" and found.used
    found = resolve_history("What about 2024?", [Turn("How much did trade drop in 2023?")])
    assert found.question == "How much did trade drop in 2024?"
    # the preposition a year or name keeps is the one it takes the place of
    found = resolve_history("And in 2021?", [Turn("How much did trade drop in 2023?")])
    assert found.question == "How much did trade drop in 2021?" and found.about == "2021"
    found = resolve_history("And with Saudi Arabia?", [Turn("How much does Iran trade with Russia?")])
    assert found.question == "How much does Iran trade with Saudi Arabia?"
    assert resolve_history("And in the end?", [Turn("How much did trade drop in 2023?")]).about is None


def test_a_pronoun_with_nothing_to_point_to_carries_the_previous_focus() -> None:
    found = resolve_history("When was that?", [Turn("What did Lavrov say about the agreement?")])
    assert found.used and "Lavrov say about the agreement" in found.question
    he = resolve_history("Who will he meet?", [Turn("When is Pezeshkian's visit to Russia?")])
    assert he.question == "Who will Pezeshkian meet?"


def test_he_or_she_with_no_one_before_to_be_is_unresolved_not_a_guess() -> None:
    countries = Turn("Which countries make up the 3+3 initiative?", ("Turkey, Armenia, Azerbaijan and Georgia.",),
                     (("GPE", "Turkey"), ("GPE", "Armenia")))
    found = resolve_history("What year did he get his PhD?", [countries])
    assert found.unresolved == "he" and not found.used and found.question == "What year did he get his PhD?"
    # a person the last answer named, or a name in the last question, is someone to be
    named = Turn("Who wrote the Asia Times piece?", ("By Emil Avdaliani.",), (("PERSON", "Emil Avdaliani"),))
    assert resolve_history("What year did he get his PhD?", [named]).question == \
        "What year did Emil Avdaliani get his PhD?"
    assert resolve_history("Why did she criticise the sanctions?", [Turn("Did Zakharova comment on the treaty?")]
                           ).question == "Why did Zakharova criticise the sanctions?"
    it = resolve_history("When was it founded?", [countries])  # "it" may be a thing: the focus is carried
    assert it.used and "3+3 initiative" in it.question


def test_chains_resolve_against_the_resolved_turn_before() -> None:
    turns = [Turn("What does the INSTC connect Russia to?"), Turn("Why does it matter?")]
    found = resolve_history("What does it carry each year?", turns)
    assert found.used and found.question.count("(") == 1 and "INSTC connect Russia to" in found.question


def test_a_full_question_on_another_subject_is_not_dragged_into_the_old_one() -> None:
    for question in ("What did India say about BRICS?", "Which country is Iran's only export partner?",
                     "When did Russia launch its full-scale invasion of Ukraine?"):
        found = resolve_history(question, [Turn(JETS, ("Iran has not yet received the Su-35 fighter jets.",))])
        assert not found.used and found.question == question


def test_without_history_a_follow_up_is_named_unresolved() -> None:
    assert resolve("when was that?", []).unresolved is not None
    assert resolve("Why not?", []).unresolved == "Why not"
    assert resolve("and India?", []).unresolved == "and India"


def _questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["gold.jsonl", "check.jsonl"])
def test_no_single_question_of_the_question_sets_counts_as_a_follow_up(name: str) -> None:
    """Asked alone, a full question is never refused as an unresolved follow-up (pronouns and all)."""
    leaning = [q for q in _questions(REPO / "eval" / name) if dependence(q)[0] == "strong"]
    assert leaning == []
    assert all(resolve(q, []).unresolved is None for q in _questions(REPO / "eval" / name))


def test_why_not_is_answered_from_the_next_sentence_of_the_quoted_article(answerer: Answerer) -> None:
    first = answerer.ask(JETS)
    assert not first.abstained and "not yet received" in (first.answer or "")
    history = (Exchange(JETS, tuple((q.doc_id, q.start, q.end) for q in first.quotes)),)
    alone = answerer.ask("Why not?")
    follow = answerer.ask("Why not?", history=history)
    assert alone.abstained and alone.unresolved == "Why not" and not alone.quotes
    assert follow.history_used and follow.resolved_question.startswith("why has Iran not received")
    assert not follow.abstained and "reluctance" in (follow.answer or "")
    text = answerer.index.articles[follow.quotes[0].doc_id].text
    # the quote repeats the sentence the reader has seen and adds the next: the new one is what answers
    start, end = follow.quotes[0].focus
    assert "reluctance" in text[start:end]
    assert not any(q.doc_id == follow.quotes[0].doc_id and q.start <= start < q.end for q in first.quotes)
    assert all(text[q.start:q.end] == q.text for q in follow.quotes if q.doc_id == follow.quotes[0].doc_id)


def test_single_questions_are_answered_as_before(answerer: Answerer) -> None:
    answer = answerer.ask("What did Lavrov say about the agreement?")
    assert answer.resolved_question == answer.question and not answer.history_used and answer.unresolved is None


@pytest.mark.parametrize("history, needle", [
    ([{"question": "x", "quotes": [{"doc_id": "nope", "start": 0, "end": 5}]}], "history[0].quotes[0]: no article"),
    ([{"question": "x", "quotes": [{"doc_id": "000_949793db03e3c7b8", "start": 5, "end": 10 ** 7}]}],
     "is not inside 000_949793db03e3c7b8"),
    ([{"question": "x", "quotes": [{"doc_id": "000_949793db03e3c7b8", "start": 9, "end": 3}]}], "start before end"),
    ([{"question": "x", "quotes": []}] * 11, "istory has 11 turns; send at most the last 10"),
    ([{"question": "  ", "quotes": []}], "question is empty"),
    ([{"question": 3, "quotes": []}], "history.0.question"),
    ([{"question": "x", "quotes": [{"doc_id": "a", "start": "0", "end": 4}]}], "history.0.quotes.0.start"),
    ({"question": "x"}, "history"),
])
def test_bad_history_is_422_saying_what_is_wrong(http: httpx.Client, history: Any, needle: str) -> None:
    response = http.post("/ask", json={"question": "Why not?", "history": history})
    assert response.status_code == 422, response.text
    assert needle in response.json()["error"]


def test_a_client_sends_back_what_it_got_and_the_follow_up_is_resolved(http: httpx.Client) -> None:
    first = http.post("/ask", json={"question": JETS}).json()
    assert first["resolved_question"] == JETS and first["history_used"] is False
    history = [{"question": JETS, "quotes": first["quotes"]}]  # the whole quotes, as received
    follow = http.post("/ask", json={"question": "Why not?", "history": history}).json()
    assert follow["history_used"] is True and follow["unresolved"] is None
    assert follow["resolved_question"].startswith("why has Iran not received")
    alone = http.post("/ask", json={"question": "when was that?"}).json()
    assert alone["abstained"] and alone["unresolved"] == "that" and alone["history_used"] is False


def test_prepare_rejects_history_the_schema_would_let_through(answerer: Answerer) -> None:
    with pytest.raises(InvalidQuestion, match="history has 11 turns"):
        answerer.prepare("Why not?", history=(Exchange("x"),) * 11)


def test_a_follow_up_of_an_unresolved_turn_is_unresolved_too() -> None:
    found = resolve_history("and why?", [Turn("when was that?")])
    assert found.unresolved == "and why" and not found.used


MISSILES = "Which missiles might Iran have sent to Russia, according to the Ming Pao article?"


def _then(answerer: Answerer, first: str | tuple[str, ...], follow: str, options: Options | None = None) -> Answer:
    history: tuple[Exchange, ...] = ()
    for question in (first,) if isinstance(first, str) else first:
        answer = answerer.ask(question, history=history)
        history += (Exchange(question, tuple((q.doc_id, q.start, q.end) for q in answer.quotes)),)
    return answerer.evaluate(follow, options=options or Options(), history=history).answer


def test_a_typed_follow_up_is_not_answered_by_a_quote_without_that_kind_of_fact(answerer: Answerer) -> None:
    # the carried words find the missiles' neighbourhood, where no sentence gives a count of deliveries
    loose = _then(answerer, MISSILES, "And how many were delivered?", Options(typed_followups=False))
    strict = _then(answerer, MISSILES, "And how many were delivered?")
    assert loose.history_used and not loose.abstained
    assert strict.history_used and strict.abstained and not strict.quotes


def test_a_follow_up_counting_a_noun_wants_a_figure_beside_that_noun(answerer: Answerer) -> None:
    first = ("What does the International North-South Transport Corridor connect Russia to?",
             "Why does it matter so much for Russia?")
    loose = _then(answerer, first, "How much cargo goes through it each year?", Options(typed_followups=False))
    strict = _then(answerer, first, "How much cargo goes through it each year?")
    assert not loose.abstained and "cargo" not in (loose.answer or "").lower()  # a figure, but not of cargo
    assert strict.history_used and strict.abstained


def test_a_typed_follow_up_whose_quote_states_that_kind_of_fact_is_answered(answerer: Answerer) -> None:
    answer = _then(answerer, "On what date is Pezeshkian's visit to Russia?", "Who will he sign the deal with?")
    assert answer.history_used and not answer.abstained and "Putin" in (answer.answer or "")


def test_a_pointing_word_carries_what_the_last_answer_named() -> None:
    last = Turn("Which country of the 3+3 format refuses to take part?", ("... though Georgia refused ...",),
                (("GPE", "Georgia"),))
    found = resolve_history("Why does it stay out?", [last])
    assert found.used and "Georgia" in found.question
    assert found.focus == "country of the 3+3 format refuses to take part"  # the next turn carries its own answer
    said = resolve_history("Why did he back the treaty?", [Turn("Who said the treaty would bring closer ties?",
                                                                 ("Lavrov said so.",), (("PERSON", "Sergei Lavrov"),))])
    assert said.question == "Why did Sergei Lavrov back the treaty?"


def test_the_last_answer_gives_the_names_of_the_kind_its_question_asked_for(answerer: Answerer) -> None:
    question = "Who will Pezeshkian sign the deal with?"
    answer = answerer.ask(question)
    assert "Putin" in (answer.answer or "")
    given = answerer.history.answered(Exchange(question, tuple((q.doc_id, q.start, q.end) for q in answer.quotes)))
    assert any(label == "PERSON" and "Putin" in text for label, text in given)
    assert not any("Pezeshkian" in text for _, text in given)  # the question already names him
    spans = tuple((q.doc_id, q.start, q.end) for q in answer.quotes)
    assert answerer.history.answered(Exchange("When is the visit?", spans)) == ()  # a date: not what a pronoun means


def test_he_after_who_is_a_name_is_that_one_not_another_the_answer_names(answerer: Answerer) -> None:
    # the answer to "who is Pezeshkian?" names Putin beside him; it describes Pezeshkian, whom "he" then means
    first = "Who is Masoud Pezeshkian?"
    answer = answerer.ask(first)
    assert any("Putin" in q.text for q in answer.quotes)
    spans = tuple((q.doc_id, q.start, q.end) for q in answer.quotes)
    assert answerer.history.answered(Exchange(first, spans)) == ()
    follow = answerer.ask("What did he sign in Moscow?", history=[Exchange(first, spans)])
    assert follow.resolved_question == "What did Masoud Pezeshkian sign in Moscow?"


def test_a_follow_up_read_again_in_a_later_turns_history_is_read_as_it_was_asked(answerer: Answerer) -> None:
    # "he" in the second turn is the person the first answer named; the third turn reads the second again
    # against the first, and must find the same person there, not the first question's own name
    history: list[Exchange] = []
    resolved = []
    for question in ("Who will Pezeshkian sign the deal with?", "When did he become president?", "Why?"):
        answer = answerer.ask(question, history=history)
        resolved.append(answer.resolved_question)
        history.append(Exchange(question, tuple((q.doc_id, q.start, q.end) for q in answer.quotes)))
    assert resolved[1] == "When did Vladimir Putin become president?"
    assert "Vladimir Putin become president" in resolved[2]


def test_the_person_named_by_the_title_asked_for_comes_first(answerer: Answerer) -> None:
    # the answer names Bashar al-Assad before "General Behrouz Esbati": "he" is the general asked for
    first = "Which Iranian general accused Moscow of failing Tehran in Syria?"
    asked = answerer.ask(first)
    spans = tuple((q.doc_id, q.start, q.end) for q in asked.quotes)
    people = [text for label, text in answerer.history.answered(Exchange(first, spans)) if label == "PERSON"]
    assert "Esbati" in people[0] and any("Assad" in p for p in people[1:])
    follow = answerer.ask("What else did he claim?", history=[Exchange(first, spans)])
    assert "Esbati" in follow.resolved_question


def test_a_publisher_is_never_he_or_him(answerer: Answerer) -> None:
    last = Turn("Does Asia Times think Trump's election will change the relationship?",
                ("It is unlikely to change, say officials.",))
    assert "Asia Times" in resolve_history("Why are officials nervous about him?", [last]).question  # not told
    told = resolve_history("Why are officials nervous about him?", [last], frozenset({"asia times"}))
    assert told.question == "Why are officials nervous about Trump?"
    first = "Does Asia Times think Trump's election will change the Russia-Iran relationship?"
    asked = answerer.ask(first)
    history = [Exchange(first, tuple((q.doc_id, q.start, q.end) for q in asked.quotes))]
    follow = answerer.ask("Why are Iranian officials nervous about him?", history=history)
    assert follow.resolved_question == "Why are Iranian officials nervous about Trump?"


def test_a_he_in_a_question_without_words_of_its_own_is_named_too() -> None:
    last = Turn("Who signed the treaty?", ("Lavrov signed it.",), (("PERSON", "Sergei Lavrov"),))
    found = resolve_history("What did he say?", [last])
    assert found.used and found.question.startswith("What did Sergei Lavrov say (")
    assert resolve_history("What did he say?", [Turn("Which countries signed the treaty?")]).unresolved == "he"


@pytest.mark.parametrize("question", ["Which other countries did the same?", "What did Iran get in return?",
                                      "Did India join too?"])
def test_a_word_relative_to_what_was_said_leans_on_the_last_turn_it_meets(question: str) -> None:
    last = Turn("Which countries condemned Russia's invasion, like Iran?", ("Iran and India condemned it.",))
    assert dependence(question)[0] == "weak"
    assert resolve_history(question, [last]).used
    apart = resolve_history(question, [Turn("When was the Zangezur corridor proposed?", ("In 2020.",))])
    assert not apart.used and apart.leans  # not carried over, but still leaning: the typed check holds it


def test_the_last_answers_neighbourhood_is_a_candidate_for_any_next_question(answerer: Answerer) -> None:
    # a follow-up no word marks as one may still be answered next to the last quote; the ranker decides
    first = answerer.ask(JETS)
    history = (Exchange(JETS, tuple((q.doc_id, q.start, q.end) for q in first.quotes)),)
    switch = "When did Lavrov call for opening the Zangezur corridor?"
    prepared = answerer.prepare(switch, history=history)
    assert prepared.context and not prepared.said and not prepared.resolution.used  # type: ignore[union-attr]
    alone, after = answerer.ask(switch), answerer.ask(switch, history=history)
    assert [(q.doc_id, q.start, q.end) for q in after.quotes] == [(q.doc_id, q.start, q.end) for q in alone.quotes]


@pytest.mark.parametrize("question", ["When did things start to improve?", "Give me an example."])
def test_a_question_that_names_nothing_continues_the_conversation(question: str) -> None:
    last = Turn("Did Iran always trust the Soviet Union?", ("Relations were strained for decades.",))
    assert dependence(question)[0] == "bare"
    found = resolve_history(question, [last])
    assert found.used and "Soviet Union" in found.question
    alone = resolve(question, [])  # asked first, it is a question of its own, not an unresolved follow-up
    assert not alone.used and alone.unresolved is None and alone.question == question
    # one that names what it is about is not dragged into the last turn
    assert not resolve_history("When did relations between Iran and Turkey start to improve?", [last]).used
    # nor one typed all in lower case, whose names have no capitals to be told by
    assert not resolve_history("what did lavrov say about the corridor?", [last]).used


def test_a_leaning_question_the_history_did_not_resolve_is_type_checked_too(answerer: Answerer) -> None:
    # "the same" leans on the last turn, whose words it does not meet: answered alone, but with the last
    # answer's neighbourhood among its candidates, so its quote must still name a place
    first = ("Did Iran condemn Russia's invasion of Ukraine?", "So where has it kept its distance from Moscow?")
    loose = _then(answerer, first, "Which other countries did the same?", Options(typed_followups=False))
    strict = _then(answerer, first, "Which other countries did the same?")
    assert not loose.history_used and not loose.abstained
    assert not strict.history_used and strict.abstained and strict.confidence < 0.5
    # a full question on another subject asked after them is not held to it
    switch = _then(answerer, first, "Which country's weapons did Russia find useful after Western sanctions?")
    assert not switch.history_used


def test_a_question_that_only_names_what_was_just_said_asks_more_about_it() -> None:
    last = Turn("When did Azerbaijan invade Nagorno-Karabakh?",
                ("Iran views Armenia as a crucial ally. It therefore protested markedly, when Azerbaijan invaded.",))
    for question in ("How did Iran react?", "Why does Tehran care so much?", "How long has Iran been under it?"):
        found = resolve_history(question, [last])
        assert found.used and "Azerbaijan invade Nagorno-Karabakh" in found.question, question
    # a name the last turn did not say, or words of its own, make a question of its own
    for question in ("How did Turkey react?", "How did Iran react to the new sanctions?"):
        assert not resolve_history(question, [last]).used, question


def test_an_opening_aside_is_not_what_the_question_is_about() -> None:
    last = Turn("What is the new payment system called?", ("It links the two national card networks.",))
    found = resolve_history("Fine, why do they need one at all?", [last])
    assert found.used and "payment system" in found.question
    assert resolve_history("OK, and India?", [Turn("What did Russia say about Iran?")]).question == \
        "What did Russia say about India?"
    # a name set off by a comma is still a name
    assert dependence("Moscow, the capital, was it bombed?")[0] != "strong"


def test_openers_run_on_and_the_name_after_them_is_the_ellipsis() -> None:
    last = Turn("What did Russia say about Iran?")
    for question in ("and what about India?", "But how about India?", "OK, so what about India?"):
        assert resolve_history(question, [last]).question == "What did Russia say about India?", question
    assert resolve_history("what about India?", [last]).question == "What did Russia say about India?"


def test_a_reflexive_pronoun_points_inside_its_own_question() -> None:
    last = Turn("What keeps Russia and Iran together?", ("Animosity toward Washington.",))
    question = "What kind of states do Russia and Iran present themselves as?"
    assert dependence(question) == ("none", None)
    assert not resolve_history(question, [last]).used
    assert resolve_history("Do they see themselves as allies?", [last]).used  # "they" still points back


def test_he_is_the_person_the_last_question_asked_about_by_office_never_a_country() -> None:
    last = Turn("What is the name of the Russian ambassador Iran summoned over the Zangezur corridor?")
    assert resolve_history("OK, why was he summoned?", [last]).question == \
        "OK, why was the Russian ambassador summoned?"
    assert resolve_history("Why did he go?", [Turn("Which minister visited Moscow?")]).question == \
        "Why did the minister go?"
    found = resolve_history("What did he say?", [Turn("How did Russian and Iranian media react?")])
    assert not found.used and found.unresolved == "he"


def test_another_or_else_is_not_answered_with_what_the_last_answer_said(answerer: Answerer) -> None:
    first = "What was a major turning point in Iran-Russia relations?"
    asked = answerer.ask(first)
    history = (Exchange(first, tuple((q.doc_id, q.start, q.end) for q in asked.quotes)),)
    prepared = answerer.prepare("Was there another turning point?", history=history)
    said = set(prepared.said)
    assert said and prepared.resolution is not None and prepared.resolution.other

    def sentences(answer: Answer) -> set[int]:
        return {i for i, s in enumerate(answerer.index.sentences) for q in answer.quotes
                if q.doc_id == s.doc_id and q.start <= s.start and s.end <= q.end}

    found = answerer.evaluate("Was there another turning point?", history=history).answer
    loose = answerer.evaluate("Was there another turning point?", options=Options(other_than_said=False),
                              history=history).answer
    assert sentences(loose) & said  # without the rule the last answer's sentences come back
    assert found.quotes and not sentences(found) & said


def test_a_resolution_with_words_in_brackets_names_the_question_it_follows() -> None:
    jets = [Turn(JETS), Turn("Why not?")]
    found = resolve_history("When did things start to improve?", jets)
    assert "(" in found.question and found.follows == "Why has Iran not received the Su-35 jets?"
    again = resolve_history("And why?", [*jets, Turn("When did things start to improve?")])
    assert again.follows == found.follows  # a chain names the question whose words it carries
    # woven into a sentence, the resolution needs no note
    assert resolve_history("Why not?", [Turn(JETS)]).follows is None
    assert resolve_history("and India?", [Turn("What did Russia say about Iran?")]).follows is None


def test_a_typed_follow_up_whose_first_quote_repeats_the_last_answer_is_answered_by_one_stating_the_kind(
        answerer: Answerer) -> None:
    first = ("Before 2022, which side had the upper hand in relations between Russia and Iran?", "What changed that?")
    found = _then(answerer, first, "Since when had Moscow held that advantage?")
    before = _then(answerer, first, "Since when had Moscow held that advantage?", Options(typed_first=False))
    assert before.abstained  # the repeated sentence led, and it names no date the question lacks
    assert not found.abstained and "2000" in found.quotes[0].text


def test_a_follow_up_asking_for_a_person_by_role_is_answered_by_a_name_without_the_role_word(
        answerer: Answerer) -> None:
    # "which commander ...?" is answered by "General Behrouz Esbati": a name need not repeat the noun that
    # describes it, as a figure must sit beside the noun it counts (the cargo test above)
    first = "What did Russian troops do when Israeli planes bombed Iranian installations in Syria?"
    found = _then(answerer, first, "Which Iranian commander accused Moscow over those strikes?")
    assert found.history_used and not found.abstained and "Esbati" in found.quotes[0].text


def test_an_ellipsis_records_the_name_it_asks_about_and_keeps_one_article() -> None:
    found = resolve_history("And the Persians?", [Turn("Why did Russia trade along the North-South corridor?")])
    assert found.question == "Why did Russia trade along the Persians corridor?"  # one "the", not "the the"
    assert found.about == "Persians"
    assert resolve_history("What about 2024?", [Turn("How much did trade drop in 2023?")]).about == "2024"
    assert resolve_history("Why not?", [Turn(JETS)]).about is None  # nothing put in place of a name


def test_mentions_reads_a_name_through_its_stem_and_the_country_aliases() -> None:
    assert mentions("Persia wanted to export its silk to Europe.", "Persians")
    assert mentions("Officials in Tehran objected.", "Iran") and mentions("Beijing said nothing.", "China")
    assert not mentions("Iran views Russia as a partner.", "China")
    assert mentions("Trade fell 5% in 2024.", "2024") and not mentions("Trade fell 5% in 2023.", "2024")


def test_a_typed_follow_up_answered_by_the_last_quote_itself_emphasises_it_there(answerer: Answerer) -> None:
    # "When did he say it?": the date is in the sentence the reader has seen ("Later in October, ... Lavrov
    # confirmed ..."), not in the neighbour a repeated quote adds
    first = "What did Lavrov say about the agreement?"
    asked = answerer.ask(first)
    assert "Lavrov" in asked.quotes[0].text
    history = [Exchange(first, tuple((q.doc_id, q.start, q.end) for q in asked.quotes))]
    quote = answerer.ask("When did he say it?", history=history).quotes[0]
    text = answerer.index.articles[quote.doc_id].text
    assert "Lavrov" in text[quote.focus[0]:quote.focus[1]]
    assert text[quote.answer_start:quote.answer_end] == "October"


def test_what_about_a_thing_asks_about_it_and_is_answered_only_by_quotes_naming_it(answerer: Answerer) -> None:
    assert resolve_history("What about the helicopters?", [Turn(JETS)]).about == "helicopters"
    assert resolve_history("And what do they do then?", [Turn(JETS)]).about is None  # a clause, not a thing
    history: list[Exchange] = []
    for question in (JETS, "Why not?"):
        asked = answerer.ask(question, history=history)
        history.append(Exchange(question, tuple((q.doc_id, q.start, q.end) for q in asked.quotes)))
    loose = answerer.ask("What about the helicopters?", options=Options(about_named=False), history=history)
    found = answerer.ask("What about the helicopters?", history=history)
    # without it the reason the jets were withheld comes first again; with it, the helicopter deals
    assert loose.quotes and not all(mentions(q.text, "helicopters") for q in loose.quotes)
    assert found.quotes and all(mentions(q.text, "helicopters") for q in found.quotes)


def test_and_what_about_a_name_no_quote_names_is_not_answered_with_the_last_answer(answerer: Answerer) -> None:
    first = "Do Moscow and Tehran want a legally binding alliance?"
    asked = answerer.ask(first)
    assert asked.quotes
    history = (Exchange(first, tuple((q.doc_id, q.start, q.end) for q in asked.quotes)),)
    loose = answerer.ask("What about China?", options=Options(about_named=False), history=history)
    found = answerer.ask("What about China?", history=history)
    assert found.resolved_question != first and "China" in found.resolved_question
    # without the rule the answer is about Moscow and Tehran again: quotes that never name China
    assert loose.quotes and not any(mentions(q.text, "China") for q in loose.quotes)
    assert all(mentions(q.text, "China") for q in found.quotes)


def test_a_month_or_a_day_is_never_he() -> None:
    last = Turn("Who said so (Iran warn Russia against in September)?", ("In September, Iran warned Moscow.",))
    found = resolve_history("On which platform did he post it?", [last])
    assert found.unresolved == "he" and "September" not in found.question
    monday = Turn("On Monday, what did Lavrov announce?")
    assert resolve_history("Why did he announce it?", [monday]).question == "Why did Lavrov announce it?"


def test_one_standing_for_a_noun_said_before_leans_on_it() -> None:
    last = Turn("How long is the new Russia-Iran agreement meant to last?",
                ("It will last for 20 years, replacing an older version signed in 2001.",))
    found = resolve_history("Who signed the 2001 one?", [last])
    assert found.used and found.question == "Who signed the 2001 one (new Russia-Iran agreement meant to last)?"
    assert dependence("Which one?")[0] == "strong" and dependence("Why do they need one?")[0] == "strong"
    # a number, "one of ..." and "at one point" stand for nothing before
    for question in ("Did one country sign the Tehran treaty?", "Is one of the deals older than the Tehran treaty?",
                     "At one point, who led Iran?", "Who did play-by-play on Westwood One?"):
        assert dependence(question)[0] == "none", question
    assert dependence("Along with drought, what is one other factor pushing Iran to sign?")[1] == "other"  # not "one"
    # its noun may be in the question itself, as an "it"'s may: a full question on another subject stays apart
    church = "Which parish church in Newcastle is typically agreed to be the oldest one in town?"
    assert not resolve_history(church, [last]).used
