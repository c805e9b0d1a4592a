"""The server-rendered pages through a real server: the chat page with and without a question, the article
page with its highlight, escaping, and the page's security rules (CSP, no inline script, no CDN)."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import httpx
import pytest

from server.answerer import Answerer
from server.pages import pieces

pytest_plugins = ["live_server"]

LAVROV = "What did Lavrov say about the agreement?"
XSS = "<img src=x onerror=alert(1)>"


def page(http: httpx.Client, path: str, status: int = 200, **params: str) -> str:
    response = http.get(path, params=params)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def text_of(fragment: str) -> str:
    """The text a fragment of the page holds (its textContent): tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def inner(document: str, pattern: str) -> str:
    found = re.search(pattern, document, re.DOTALL)
    assert found, pattern
    return found.group(1)


def test_empty_state_offers_example_questions(http: httpx.Client) -> None:
    doc = page(http, "/")
    assert 'class="exchange"' not in doc
    assert re.search(r'<form[^>]*method="get"[^>]*action="/"', doc)
    assert '<label for="q">' in doc and '<textarea id="q" name="q"' in doc
    examples = re.findall(r'<a class="example" href="([^"]+)">([^<]+)</a>', doc)
    assert len(examples) >= 3
    for href, text in examples:
        assert href == "/?q=" + quote(html.unescape(text), safe="")
    assert LAVROV in doc
    for landmark in ("<header", "<main", "<footer", 'role="log"', 'aria-live="polite"'):
        assert landmark in doc


def test_question_in_the_url_is_answered_on_the_server(http: httpx.Client, answerer: Answerer) -> None:
    expected = http.post("/ask", json={"question": LAVROV}).json()
    doc = page(http, "/", q=LAVROV)
    assert 'id="intro"' in doc and "hidden" in inner(doc, r'(<section id="intro"[^>]*>)')
    assert html.escape(LAVROV, quote=False) in doc
    for n, q in enumerate(expected["quotes"], start=1):
        cited = rf'<blockquote cite="/articles/{q["doc_id"]}\?start={q["start"]}[^"]*">(.*?)</blockquote>'
        blockquote = inner(doc, cited)
        assert html.unescape(blockquote) == q["text"]
        link = f'href="/articles/{q["doc_id"]}?start={q["start"]}&amp;end={q["end"]}#quote"'
        assert link in doc
        cite = inner(doc, rf'<a class="cite" {re.escape(link)}>(.*?)</a>')
        assert f"[{n}]" in cite and html.escape(q["title"]) in cite
    for q in expected["quotes"]:  # each citation's source and date come with the answer itself
        meta = answerer.index.articles[q["doc_id"]].meta
        assert (q["source"], q["published"]) == (meta.source or None, meta.published or None)
    shown = " · ".join(x for x in (expected["quotes"][0]["source"], expected["quotes"][0]["published"]) if x)
    assert shown, "the seed articles have sources and dates"
    assert f'<span class="source"> · {html.escape(shown)}</span>' in doc


def test_chat_page_lists_the_newest_articles_and_links_the_rest(http: httpx.Client, answerer: Answerer) -> None:
    """The page names how many articles there are and a few of them, never every one (a 100,000-article
    archive must not be embedded in each page)."""
    doc = page(http, "/")
    total = len(answerer.index.articles)
    assert f"The {total} articles" in doc
    listed = re.findall(r'<li><a href="/articles/([^"?]+)">', inner(doc, r'<details class="library">(.*?)</details>'))
    newest = http.get("/api/articles", params={"limit": 10}).json()["articles"]
    assert listed == [a["doc_id"] for a in newest][:10] and 0 < len(listed) <= 10
    assert "sources-data" not in doc


def test_abstaining_answer_shows_the_closest_passages(http: httpx.Client) -> None:
    doc = page(http, "/", q="What is the best lasagna recipe?")
    assert "The articles don&#39;t answer this." in doc or "The articles don't answer this." in doc
    assert "Closest passages (5)" in doc
    assert "<blockquote" not in doc
    assert len(re.findall(r'<a class="passage-title" href="/articles/[^"]+#quote">', doc)) == 5


def test_blank_question_shows_the_empty_state(http: httpx.Client) -> None:
    doc = page(http, "/", q="   ")
    assert 'class="exchange"' not in doc and 'class="example"' in doc


def test_too_long_question_is_explained_in_the_conversation(http: httpx.Client) -> None:
    doc = page(http, "/", status=422, q="why " * 300)
    error = inner(doc, r'<p class="error" role="alert">(.*?)</p>')
    assert "1199 characters" in error and "1000" in error


def test_user_text_is_escaped(http: httpx.Client) -> None:
    doc = page(http, "/", q=XSS)
    assert XSS not in doc
    assert "<img" not in doc
    assert html.escape(XSS) in doc or "&lt;img src=x onerror=alert(1)&gt;" in doc


def test_article_page_highlights_exactly_the_quote(http: httpx.Client, answerer: Answerer) -> None:
    q = http.post("/ask", json={"question": LAVROV}).json()["quotes"][0]
    article = answerer.index.articles[q["doc_id"]]
    doc = page(http, f"/articles/{q['doc_id']}", start=str(q["start"]), end=str(q["end"]))
    mark = inner(doc, r'<mark id="quote"[^>]*>(.*?)</mark>')
    assert text_of(mark) == q["text"] == article.text[q["start"]:q["end"]]
    # The whole text is there, paragraphs and all, exactly as in the article (pre-wrap keeps them).
    body = inner(doc, r'<div class="doc-text">(.*?)</div>')
    assert text_of(body) == article.text
    assert html.escape(article.title) in inner(doc, r"<h1>(.*?)</h1>")
    if article.meta.source:
        assert html.escape(article.meta.source) in inner(doc, r'<p class="byline">(.*?)</p>')


@pytest.mark.parametrize(("start", "end"), [("abc", "10"), ("50", "10"), ("0", "99999999"), ("-5", "10"),
                                            ("10", "10"), ("", ""), ("1e3", "2e3")])
def test_article_page_ignores_a_range_that_does_not_fit(http: httpx.Client, answerer: Answerer, start: str,
                                                        end: str) -> None:
    doc_id = "000_949793db03e3c7b8"
    doc = page(http, f"/articles/{doc_id}", start=start, end=end)
    assert "<mark" not in doc
    body = inner(doc, r'<div class="doc-text">(.*?)</div>')
    assert text_of(body) == answerer.index.articles[doc_id].text


def test_article_page_without_range_has_no_highlight(http: httpx.Client) -> None:
    doc = page(http, "/articles/001_e16f233a03124463")
    assert "<mark" not in doc and "Partners in Defiance" in doc


@pytest.mark.parametrize("doc_id", ["nope", "..%2f..%2fetc%2fpasswd", "%252e%252e%252fetc", "000_949793db03e3c7b8.txt"])
def test_unknown_article_is_a_404_page(http: httpx.Client, doc_id: str) -> None:
    doc = page(http, f"/articles/{doc_id}", status=404)
    assert "<h1" in doc and "Not found" in doc and "root:" not in doc


def test_pages_follow_the_content_security_policy(http: httpx.Client, live_server: str) -> None:
    for path in ("/", f"/?q={quote(LAVROV)}", "/articles/000_949793db03e3c7b8?start=0&end=10", "/nowhere"):
        response = http.get(path, headers={"accept": "text/html"})
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        doc = response.text
        for tag in re.findall(r"<script\b[^>]*>", doc):
            assert 'src="' in tag or 'type="application/json"' in tag, tag  # no inline script
        assert not re.search(r"\son[a-z]+=", doc), "inline event handler"
        assert " style=" not in doc
        for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', doc):
            assert url.startswith(live_server), f"{url} is not served by the app"


def test_static_assets_are_served(http: httpx.Client) -> None:
    doc = page(http, "/")
    for asset in re.findall(r'(?:src|href)="(https?://[^"]+/static/[^"]+)"', doc):
        response = http.get(asset)
        assert response.status_code == 200 and response.content


@pytest.mark.parametrize("text", ["", "a", "\n\n\n\nTitle\n\nPara one.\n \n\t\n\nPara two.\n\n\n", "x\n\ny"])
def test_article_text_pieces_join_back_exactly(text: str) -> None:
    parts = pieces(text, at_start=True)
    assert "".join(piece for piece, _ in parts) == text
    shown = "".join(piece for piece, extra in parts if not extra)
    assert "\n\n\n" not in shown.replace(" ", "").replace("\t", "") and not shown.startswith("\n\n")


def test_seed_articles_show_every_character(answerer: Answerer) -> None:
    for article in answerer.index.articles.values():
        assert "".join(piece for piece, _ in pieces(article.text, at_start=True)) == article.text
