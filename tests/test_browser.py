"""The chat page in headless Chromium (Playwright, sync API) against the live server: ask, read the cited
quote, click through to the highlight; examples; the no-JavaScript path; escaping; errors shown in the
conversation. Screenshots go to test-artifacts/ (desktop 1280x800, phone 390x844).

Needs /usr/bin/chromium (Debian: `apt-get install chromium`); Playwright's own browser download is never
used. The tests are skipped, saying so, when it is missing.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from server.readable import readable
from tests.browser_kit import (
    BROWSER,
    CHROMIUM,
    DESKTOP,
    PHONE,
    axe_violations,
    open_page,
    settle,
    shot,
    type_and_send,
    until_still,
)

pytest_plugins = ["live_server", "browser_kit"]

LAVROV = "What did Lavrov say about the agreement?"
XSS = "<img src=x onerror=alert(1)>"

pytestmark = BROWSER

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect


def test_ask_then_click_through_to_the_highlighted_quote(desktop: Page, live_server: str,
                                                         http: httpx.Client) -> None:
    page = desktop
    expected = http.post("/ask", json={"question": LAVROV}).json()["quotes"][0]
    page.goto(live_server + "/")
    box = page.get_by_label("Your question")
    expect(box).to_be_focused()
    expect(page.locator("a.example")).to_have_count(4)

    held: list[Any] = []
    page.route("**/ask", lambda route: held.append(route))  # hold the request to see the working state
    box.fill(LAVROV)
    box.press("Enter")
    expect(page.get_by_text("Searching the articles…")).to_be_visible()
    expect(page.locator("#ask-button")).to_be_disabled()
    expect(page.locator("#intro")).to_be_hidden()
    page.wait_for_timeout(50)
    assert held, "the page did not POST /ask"
    held[0].continue_()
    page.unroute("**/ask")

    exchange = page.locator(".exchange").last
    expect(exchange.locator(".question")).to_have_text(LAVROV)
    quote = exchange.locator("blockquote").first
    expect(quote).to_be_visible()
    assert quote.text_content() == readable(expected["text"])
    cite = exchange.locator("a.cite").first
    expect(cite).to_contain_text("[1]")
    expect(cite).to_contain_text(expected["title"])
    expect(page.locator("#ask-button")).to_be_enabled()
    expect(box).to_be_focused()
    assert re.search(r"\?q=What%20did%20Lavrov", page.url), page.url  # shareable

    # A second question: the conversation grows downwards.
    type_and_send(page, "What is the best lasagna recipe?")
    expect(page.locator(".exchange")).to_have_count(2)
    expect(page.locator(".exchange").last.locator(".abstain")).to_have_text("The articles don't answer this.")
    page.locator(".exchange").last.locator("summary").click()
    expect(page.locator(".exchange").last.locator(".passages li")).to_have_count(5)
    page.wait_for_timeout(400)  # let the smooth scroll settle for the screenshot
    shot(page, "desktop-chat")

    page.locator(".exchange").first.locator("a.cite").first.click()
    page.wait_for_url(re.compile(r"/articles/[^?]+\?start=\d+&end=\d+#quote$"))
    mark = page.locator("mark#quote")
    expect(mark).to_have_text(expected["text"])
    assert mark.text_content() == expected["text"]
    expect(mark).to_be_in_viewport()
    expect(page.locator("h1")).to_have_text(expected["title"])
    page.wait_for_timeout(300)
    shot(page, "desktop-article")

    page.go_back()
    expect(page.locator(".exchange")).to_have_count(2)  # the conversation is still there


def test_example_question_is_asked_on_click(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/")
    page.get_by_role("link", name="Has Iran received the Su-35 jets?").click()
    exchange = page.locator(".exchange").last
    expect(exchange.locator("blockquote").first).to_contain_text("Su-35")
    expect(exchange.locator(".question")).to_have_text("Has Iran received the Su-35 jets?")
    assert "?q=Has%20Iran" in page.url


def test_shift_enter_makes_a_new_line(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/")
    box = page.get_by_label("Your question")
    box.type("INSTC")
    box.press("Shift+Enter")
    box.type("corridor?")
    expect(box).to_have_value("INSTC\ncorridor?")
    expect(page.locator(".exchange")).to_have_count(0)
    box.press("Enter")
    expect(page.locator(".exchange blockquote").first).to_be_visible()


def test_escaped_question_shows_as_text_and_runs_nothing(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/")
    type_and_send(page, XSS)
    exchange = page.locator(".exchange").last
    expect(exchange.locator(".question")).to_have_text(XSS)
    expect(exchange.locator(".reply p").first).not_to_have_text("Searching the articles…")
    expect(page.locator("#conversation img")).to_have_count(0)
    page.goto(live_server + "/?q=" + quote(XSS))
    expect(page.locator(".exchange .question")).to_have_text(XSS)
    expect(page.locator("#conversation img")).to_have_count(0)


def test_errors_are_shown_in_the_conversation(desktop: Page, live_server: str, problems: list[str]) -> None:
    page = desktop
    page.goto(live_server + "/")
    # The server's 422 message: a question over 1000 characters (the box's maxlength taken off).
    page.locator("#q").evaluate("box => box.removeAttribute('maxlength')")
    type_and_send(page, "why " * 300)
    error = page.locator(".exchange .error").last
    expect(error).to_contain_text("1199 characters")
    expect(page.get_by_label("Your question")).to_have_value(("why " * 300).strip())  # kept to edit

    # The network failing.
    page.route("**/ask", lambda route: route.abort())
    type_and_send(page, "INSTC?")
    expect(page.locator(".exchange .error").last).to_contain_text("Could not reach Verbatim")
    expect(page.locator(".exchange")).to_have_count(2)
    expect(page.locator("#ask-button")).to_be_enabled()
    # Chromium logs both failed requests on the console; they are this test's point, not problems.
    problems[:] = [p for p in problems if "Failed to load resource" not in p]


def test_without_javascript_the_form_answers_on_the_server(browser: Browser, live_server: str,
                                                           problems: list[str]) -> None:
    page = open_page(browser, DESKTOP, problems, java_script_enabled=False)
    try:
        page.goto(live_server + "/")
        page.get_by_label("Your question").fill(LAVROV)
        page.get_by_role("button", name="Ask").click()
        page.wait_for_url(re.compile(r"/\?q=What"))
        exchange = page.locator(".exchange")
        expect(exchange.locator("blockquote").first).to_contain_text("Lavrov")
        exchange.locator("a.cite").first.click()
        expect(page.locator("mark#quote")).to_contain_text("Lavrov")
        expect(page.locator("mark#quote")).to_be_in_viewport()
    finally:
        page.context.close()


def test_phone_layout(browser: Browser, live_server: str, problems: list[str]) -> None:
    page = open_page(browser, PHONE, problems, is_mobile=True, has_touch=True)
    try:
        page.goto(live_server + "/")
        shot(page, "phone-empty")
        type_and_send(page, LAVROV)
        expect(page.locator(".exchange blockquote").first).to_be_visible()
        type_and_send(page, "Why did bilateral trade fall?")
        expect(page.locator(".exchange .meta")).to_have_count(2)
        # Nothing wider than the screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        page.wait_for_timeout(400)
        shot(page, "phone-chat")
        page.locator(".exchange").first.locator("a.cite").first.click()
        expect(page.locator("mark#quote")).to_be_in_viewport()
        page.wait_for_timeout(300)
        shot(page, "phone-article")
    finally:
        page.context.close()


def test_api_docs_render_offline(desktop: Page, live_server: str) -> None:
    """Swagger UI from local assets under the strict CSP: the browser here has no network at all."""
    desktop.goto(f"{live_server}/docs")
    desktop.get_by_text("/ask", exact=True).first.wait_for(timeout=15_000)
    shot(desktop, "docs-desktop")


def test_a_differing_report_is_shown_beside_the_quote(desktop: Page, live_server: str, http: httpx.Client) -> None:
    """001 expects Pezeshkian's visit "by the end of the year", 002 dates it "January 17": the page says so,
    with JavaScript and without."""
    question = "When is Pezeshkian visiting Russia?"
    quotes = http.post("/ask", json={"question": question}).json()["quotes"]
    expected = [(q["text"], c) for q in quotes for c in q["differs_in"]]
    assert expected, quotes
    page = desktop
    page.goto(live_server + "/")
    type_and_send(page, question)
    differs = page.locator(".exchange .differs")
    expect(differs).to_have_count(len(expected))
    first = differs.first
    expect(first).to_contain_text("differs in " + expected[0][1]["title"])
    expect(first.locator("q")).to_have_text(" ".join(expected[0][1]["text"].split()))
    assert first.locator("a").get_attribute("href") == (
        f"/articles/{expected[0][1]['doc_id']}?start={expected[0][1]['start']}&end={expected[0][1]['end']}#quote")
    page.wait_for_timeout(300)
    shot(page, "desktop-differs")
    page.goto(live_server + "/?q=" + quote(question))  # the server's rendering says the same
    expect(page.locator(".exchange .differs")).to_have_count(len(expected))
    expect(page.locator(".exchange .differs").first).to_contain_text("differs in " + expected[0][1]["title"])


def test_quotes_read_cleanly_while_the_api_stays_verbatim(browser: Browser, desktop: Page, live_server: str,
                                                          http: httpx.Client, problems: list[str]) -> None:
    """001 writes "\\$40 billion" (Markdown residue) and breaks "Iran has long / maintained ..." across a
    page break: the page reads "$40 billion" and one line, the API keeps the article's characters."""
    cases = [("How much did Russia pledge to invest in Iran's oil and gas industries?", "\\$40"),
             ("What ties does Iran have with Armenia?", "long\n\nmaintained")]
    for question, raw in cases:
        quotes = http.post("/ask", json={"question": question}).json()["quotes"]
        texts = [q["text"] for q in quotes if raw in q["text"]]
        assert texts, (question, quotes)  # the API text is the article's, residue and all
        shown = readable(texts[0])
        assert raw not in shown and "\\$" not in shown
        desktop.goto(live_server + "/")
        type_and_send(desktop, question)
        # the page may restore the earlier exchange from localStorage: wait for this question's quote
        expect(desktop.locator(".exchange blockquote").filter(has_text=shown).first).to_be_visible()
        assert shown in desktop.locator(".exchange blockquote").all_text_contents()
        nojs = open_page(browser, DESKTOP, problems, java_script_enabled=False)
        try:
            nojs.goto(live_server + "/?q=" + quote(question))
            assert shown in nojs.locator(".exchange blockquote").all_text_contents()
        finally:
            nojs.context.close()
    shot(desktop, "desktop-readable")


def test_a_follow_up_is_sent_with_the_conversation_and_answered_in_full(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/")
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/ask") else None)
    type_and_send(page, "Has Iran received the Su-35 jets?")
    first = page.locator(".exchange").first
    expect(first.locator("blockquote").first).to_contain_text("not yet received")
    expect(first.locator(".resolved")).to_have_count(0)  # a question of its own: nothing to say

    type_and_send(page, "Why not?")
    second = page.locator(".exchange").nth(1)
    expect(second.locator(".resolved")).to_have_text(re.compile(r"^Answering: why has Iran not received"))
    expect(second.locator("blockquote").first).to_contain_text("reluctance")
    assert sent[0]["history"] == []
    history = sent[1]["history"]
    assert [turn["question"] for turn in history] == ["Has Iran received the Su-35 jets?"]
    assert history[0]["quotes"] and set(history[0]["quotes"][0]) == {"doc_id", "start", "end"}
    page.wait_for_timeout(400)
    shot(page, "desktop-follow-up")

    # words carried over in brackets are not shown: the question it was read after is named instead
    type_and_send(page, "When did things start to improve?")
    third = page.locator(".exchange").nth(2)
    expect(third.locator(".resolved")).to_have_text(
        "Answering \u201cWhen did things start to improve?\u201d as a follow-up to \u201cWhy has Iran not received the "
        "Su-35 jets?\u201d")

    # Asked with no conversation behind it, the page says it could not tell, not that the articles don't answer.
    page.goto(live_server + "/?q=" + quote("when was that?"))
    reply = page.locator(".exchange").last
    expect(reply.locator(".abstain")).to_have_text("I could not tell what 'that' refers to; ask it in full.")
    type_and_send(page, "and why?")
    expect(page.locator(".exchange").last.locator(".abstain")).to_contain_text("I could not tell what")
    shot(page, "desktop-unresolved")


def test_the_answering_phrase_is_emphasised_and_context_shown_on_demand(
        browser: Browser, desktop: Page, live_server: str, http: httpx.Client, problems: list[str]) -> None:
    question = "When did Lavrov call for opening the Zangezur corridor?"
    first = http.post("/ask", json={"question": question}).json()["quotes"][0]
    phrase = first["text"][first["answer_start"] - first["start"]:first["answer_end"] - first["start"]]
    assert phrase == "August 2023"
    nojs = open_page(browser, DESKTOP, problems, java_script_enabled=False)
    for page, how in ((desktop, "js"), (nojs, "server")):
        if how == "js":
            page.goto(live_server + "/")
            type_and_send(page, question)
        else:
            page.goto(live_server + "/?q=" + quote(question))
        figure = page.locator(".exchange figure.quote").first
        expect(figure.locator("blockquote strong.answer")).to_have_text("August 2023")
        assert figure.locator("blockquote").text_content() == readable(first["text"])  # emphasis adds no text
        context = figure.locator("details.context")
        expect(context.locator(".before")).to_be_hidden()
        context.locator("summary").click()
        expect(context.locator(".before")).to_have_text("Before: " + readable(first["before"]["text"]))
        expect(context.locator(".after")).to_have_text("After: " + readable(first["after"]["text"]))
        page.wait_for_timeout(200)
        shot(page, f"desktop-context-{how}")
    nojs.context.close()


def test_back_and_forward_step_through_the_conversation(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/")
    type_and_send(page, LAVROV)
    expect(page.locator(".exchange .meta")).to_have_count(1)
    type_and_send(page, "INSTC?")
    expect(page.locator(".exchange .meta")).to_have_count(2)
    page.go_back()
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.locator(".exchange .question")).to_have_text(LAVROV)
    assert "?q=What%20did%20Lavrov" in page.url
    page.go_back()
    expect(page.locator(".exchange")).to_have_count(0)
    expect(page.locator("#intro")).to_be_visible()
    page.go_forward()
    page.go_forward()
    expect(page.locator(".exchange")).to_have_count(2)
    expect(page.locator(".exchange .question").last).to_have_text("INSTC?")
    # Asking after going back drops what came after, as a browser drops its forward history.
    page.go_back()
    expect(page.locator(".exchange")).to_have_count(1)
    type_and_send(page, "Has Iran received the Su-35 jets?")
    expect(page.locator(".exchange .meta")).to_have_count(2)
    assert page.locator(".exchange .question").all_text_contents() == [LAVROV, "Has Iran received the Su-35 jets?"]


def test_the_conversation_is_kept_until_a_new_one_is_started(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/")
    expect(page.locator("#new-conversation")).to_be_hidden()
    type_and_send(page, LAVROV)
    expect(page.locator(".exchange .meta")).to_have_count(1)
    page.goto(live_server + "/")  # a fresh visit to the page: the conversation is still there
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.locator("#intro")).to_be_hidden()
    page.get_by_role("link", name="New conversation").click()
    expect(page.locator(".exchange")).to_have_count(0)
    expect(page.locator("#intro")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()
    earlier = page.evaluate("JSON.parse(localStorage.getItem('verbatim.earlier-conversations'))")
    assert [item["question"] for item in earlier[-1]["items"]] == [LAVROV]  # kept, not wiped
    page.reload()
    expect(page.locator(".exchange")).to_have_count(0)


def test_a_failed_exchange_is_replaced_when_asked_again(desktop: Page, live_server: str,
                                                        problems: list[str]) -> None:
    page = desktop
    page.goto(live_server + "/")
    page.route("**/ask", lambda route: route.abort())
    type_and_send(page, LAVROV)
    expect(page.locator(".exchange .error")).to_contain_text("Could not reach Verbatim")
    page.unroute("**/ask")
    box = page.get_by_label("Your question")
    expect(box).to_have_value(LAVROV)  # kept to ask again
    box.press("Enter")
    expect(page.locator(".exchange .meta")).to_have_count(1)
    expect(page.locator(".exchange")).to_have_count(1)
    expect(page.locator(".exchange .error")).to_have_count(0)
    stored = page.evaluate("JSON.parse(localStorage.getItem('verbatim.conversation'))")
    assert len(stored) == 1 and "response" in stored[0]
    problems[:] = [p for p in problems if "Failed to load resource" not in p]


def test_coming_back_from_an_article_on_a_phone_keeps_the_scroll(browser: Browser, live_server: str,
                                                                 problems: list[str]) -> None:
    page = open_page(browser, PHONE, problems, is_mobile=True, has_touch=True)
    try:
        page.goto(live_server + "/")
        for question in (LAVROV, "Why did bilateral trade fall?", "Has Iran received the Su-35 jets?"):
            type_and_send(page, question)
            expect(page.locator(".exchange .meta")).to_have_count(page.locator(".exchange").count())
        # the page scrolls smoothly to each new answer: a scroll still running would move the place measured
        until_still(page)
        cite = page.locator(".exchange").nth(1).locator("a.cite").first
        cite.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -100)")
        until_still(page)
        y = page.evaluate("window.scrollY")
        assert y > 300  # far from both ends: a restored top or bottom would not pass for a kept place
        cite.click()
        expect(page.locator("mark#quote")).to_be_in_viewport()
        page.go_back()
        expect(page.locator(".exchange")).to_have_count(3)
        settle(page, lambda: abs(page.evaluate("window.scrollY") - y) < 4, "the scroll position was not restored")
        shot(page, "phone-back-from-article")
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_accessibility_violations(browser: Browser, live_server: str, problems: list[str], viewport: str) -> None:
    """The empty page, an answer (emphasis, differing report, context open), an abstention with its
    passages, the article page and the page without JavaScript, checked by axe-core (vendored, no CDN)."""
    size = DESKTOP if viewport == "desktop" else PHONE
    page = open_page(browser, size, problems, bypass_csp=True)  # axe is injected as an inline script
    try:
        page.goto(live_server + "/")
        assert axe_violations(page) == []
        type_and_send(page, "When is Pezeshkian visiting Russia?")
        expect(page.locator(".exchange .meta")).to_have_count(1)
        page.locator("details.context summary").first.click()
        type_and_send(page, "What is the best lasagna recipe?")
        expect(page.locator(".exchange .abstain")).to_have_count(1)
        page.locator("details.passages summary").click()
        assert axe_violations(page) == []
        page.locator(".exchange").first.locator("a.cite").first.click()
        expect(page.locator("mark#quote")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        page.context.close()
    # The server's rendering, as a browser without JavaScript gets it: the page's script is not loaded.
    bare = open_page(browser, size, problems, bypass_csp=True)
    try:
        bare.route("**/static/app.js", lambda route: route.abort())
        bare.goto(live_server + "/?q=" + quote("When is Pezeshkian visiting Russia?"))
        expect(bare.locator(".exchange blockquote").first).to_be_visible()
        assert axe_violations(bare) == []
    finally:
        bare.context.close()
    problems[:] = [p for p in problems if "Failed to load resource" not in p]


def test_ask_this_article_and_citations_with_source_and_date(desktop: Page, live_server: str) -> None:
    page = desktop
    page.goto(live_server + "/articles/001_e16f233a03124463")
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/ask") else None)
    page.get_by_label("Ask this article").fill("When did Lavrov call for opening the Zangezur corridor?")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_url(re.compile(r"/\?q=When.*&doc=001_e16f233a03124463"))
    expect(page.locator("#only-note")).to_contain_text("Asking only Partners in Defiance")
    cites = page.locator(".exchange a.cite")
    expect(cites.first).to_be_visible()
    assert all("Partners in Defiance" in t for t in cites.all_text_contents())
    # the citation gives the article's source and date (metadata.jsonl: Gulf Research Center, 2024-11)
    expect(page.locator(".exchange .source").first).to_have_text(" · Gulf Research Center · 2024-11")
    type_and_send(page, "Has Iran received the Su-35 jets?")  # the next question asks the same article
    expect(page.locator(".exchange .meta, .exchange .abstain")).to_have_count(2)
    assert sent[-1]["doc_ids"] == ["001_e16f233a03124463"]
    assert all("Partners in Defiance" in t for t in page.locator(".exchange a.cite").all_text_contents())
    shot(page, "desktop-ask-this-article")
