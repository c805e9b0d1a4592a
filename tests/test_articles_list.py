"""The article list: GET /api/articles with words, source and date filters, pages and a total, and the
/articles page rendered on the server, through a real server on the seed index and on a fixture of
three dated articles from three sources; the catalogue's order and date rules on their own."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from index.settings import Settings
from server.answerer import Answerer
from server.app import create_app
from server.catalogue import bound, days
from tests.live_server import serve

pytest_plugins = ["live_server"]

PARTNERS = "001_e16f233a03124463"  # the seed article with a date (2024-11) and a source


@pytest.fixture(scope="module")
def facts_http(facts_answerer: Answerer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server over the three gas articles: Tehran Daily 2025-01-05, Moscow Courier 2024-11-20,
    Caspian Review 2025-02-01."""
    folder = tmp_path_factory.mktemp("facts-server")
    settings = Settings(index_dir=folder / "unused", feedback_path=folder / "feedback.jsonl", reload_interval=0)
    with serve(create_app(settings, answerer=facts_answerer)) as base, httpx.Client(base_url=base, timeout=30) as c:
        yield c


def listed(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/articles", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"total", "offset", "limit", "articles"}
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [a["doc_id"] for a in body["articles"]]


def test_every_article_newest_first_then_by_title(http: httpx.Client, answerer: Answerer) -> None:
    body = listed(http)
    assert body["total"] == 5 and body["offset"] == 0 and body["limit"] == 20
    assert ids(body)[0] == PARTNERS  # the one dated article first, then the undated by title
    undated = [a["title"] for a in body["articles"][1:]]
    assert undated == sorted(undated, key=str.casefold)
    for item in body["articles"]:
        assert set(item) == {"doc_id", "title", "source", "author", "published", "chars"}
        assert item["chars"] == len(answerer.index.articles[item["doc_id"]].text)


def test_words_sources_and_pages(http: httpx.Client, answerer: Answerer) -> None:
    lavrov = listed(http, q="Lavrov")
    texts = {d: (a.title + "\n" + a.text).casefold() for d, a in answerer.index.articles.items()}
    assert set(ids(lavrov)) == {d for d, t in texts.items() if "lavrov" in t} and 0 < lavrov["total"] < 5
    both = listed(http, q="Lavrov Zangezur")  # every word must be there
    assert set(ids(both)) == {d for d, t in texts.items() if "lavrov" in t and "zangezur" in t}
    assert listed(http, q="xylophone")["total"] == 0
    assert ids(listed(http, q="LAVROV")) == ids(lavrov)  # case does not matter
    assert ids(listed(http, source="Ming Pao")) == ["004_0baecaff5e4cbb7e"]
    two = listed(http, source=["Ming Pao", "Asia Times"])
    assert sorted(ids(two)) == ["000_949793db03e3c7b8", "004_0baecaff5e4cbb7e"]
    assert listed(http, source="Nobody's Gazette")["total"] == 0
    every = ids(listed(http))
    pages = [listed(http, limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [ids(p) for p in pages] == [every[0:2], every[2:4], every[4:], []]
    assert all(p["total"] == 5 for p in pages)


def test_dates_filter_on_the_fixture(facts_http: httpx.Client) -> None:
    assert ids(listed(facts_http)) == ["gas-c", "gas-a", "gas-b"]  # 2025-02-01, 2025-01-05, 2024-11-20
    assert ids(listed(facts_http, **{"from": "2025-01-01"})) == ["gas-c", "gas-a"]
    assert ids(listed(facts_http, to="2024-12-31")) == ["gas-b"]
    assert ids(listed(facts_http, **{"from": "2025-01-05", "to": "2025-01-05"})) == ["gas-a"]
    assert ids(listed(facts_http, **{"from": "2025-01", "to": "2025-01"})) == ["gas-a"]  # a month is all its days
    assert ids(listed(facts_http, **{"from": "2024"})) == ["gas-c", "gas-a", "gas-b"]
    assert ids(listed(facts_http, q="pipeline", source="Caspian Review")) == ["gas-c"]
    assert ids(listed(facts_http, q="gas", to="2025-01-31")) == ["gas-a", "gas-b"]


def test_an_undated_article_is_outside_every_date_range(http: httpx.Client) -> None:
    assert ids(listed(http, **{"from": "2000-01-01"})) == [PARTNERS]
    assert ids(listed(http, to="2099-12-31")) == [PARTNERS]


@pytest.mark.parametrize(("params", "needle"), [
    ({"from": "2024-13-01"}, "from: '2024-13-01' is not a date; use YYYY-MM-DD"),
    ({"to": "yesterday"}, "to: 'yesterday' is not a date"),
    ({"from": "2024-02-30"}, "is not a date"),
    ({"from": "2025-02-01", "to": "2025-01-01"}, "from (2025-02-01) is after to (2025-01-01): swap them"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "two"}, "offset"),
    ({"q": "x" * 201}, "q: String should have at most 200 characters"),
])
def test_bad_list_queries_are_a_422_that_says_what_to_fix(http: httpx.Client, params: dict[str, str],
                                                           needle: str) -> None:
    response = http.get("/api/articles", params=params)
    assert response.status_code == 422, response.text
    assert needle.lower() in response.json()["error"].lower(), response.json()["error"]


def test_the_catalogue_reads_partial_dates() -> None:
    november = (dt.date(2024, 11, 1).toordinal(), dt.date(2024, 11, 30).toordinal())
    assert days("2024-11") == november
    assert days("2024-12") == (dt.date(2024, 12, 1).toordinal(), dt.date(2024, 12, 31).toordinal())
    assert days("2024-02-29T08:00:00Z") == (dt.date(2024, 2, 29).toordinal(),) * 2
    assert days("2024") == (dt.date(2024, 1, 1).toordinal(), dt.date(2024, 12, 31).toordinal())
    assert days("November 2024") is None and days("2023-02-29") is None and days(None) is None
    assert bound("2024-11", "to", end=True) == november[1] and bound("", "from", end=False) is None


def page(client: httpx.Client, status: int = 200, **params: Any) -> str:
    response = client.get("/articles", params=params)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def entries(document: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<h2 class="entry-title"><a href="/articles/([^"]+)">', document)]


def test_the_page_lists_searches_and_filters_without_javascript(http: httpx.Client, facts_http: httpx.Client) -> None:
    doc = page(http)
    assert entries(doc)[0] == PARTNERS and len(entries(doc)) == 5
    assert f'href="/?doc={PARTNERS}"' in doc  # ask this article
    assert re.search(r'<form class="filters" method="get" action="/articles"', doc)
    for label in ("Search titles and text", "Source", "From", "To"):
        assert f">{label}</label>" in doc
    assert '<option value="Ming Pao">Ming Pao (1)</option>' in doc
    assert "1–5 of 5 articles (newest first)" in doc
    searched = page(http, q="Lavrov", source="Gulf Research Center")
    assert entries(searched) == [PARTNERS] and 'value="Lavrov"' in searched
    assert '<option value="Gulf Research Center" selected>' in searched
    dated = page(facts_http, **{"from": "2025-01", "to": "2025-02"})
    assert entries(dated) == ["gas-c", "gas-a"]
    assert 'value="2025-01-01"' in dated and 'value="2025-02-28"' in dated  # the range as days, for the date inputs
    assert "No article matches these filters." in page(http, q="xylophone")
    bad = page(http, 422, **{"from": "2025-99-01"})
    assert "is not a date" in bad and 'role="alert"' in bad


def test_the_page_is_paginated(http: httpx.Client) -> None:
    first = page(http, limit=2)
    assert "1–2 of 5 articles" in first and "Page 1 of 3" in first
    nexts = re.findall(r'<a rel="next" href="([^"]+)">', first)
    assert nexts == ["/articles?limit=2&amp;offset=2"]
    last = page(http, limit=2, offset=4)
    assert "5–5 of 5" in last and "Page 3 of 3" in last and 'rel="next"' not in last
    assert re.findall(r'<a rel="prev" href="([^"]+)">', last) == ["/articles?limit=2&amp;offset=2"]
    searched = page(http, q="Iran", limit=1)
    assert re.search(r'rel="next" href="/articles\?q=Iran&amp;limit=1&amp;offset=1"', searched)


def test_the_chat_page_links_to_the_list(http: httpx.Client) -> None:
    doc = http.get("/").text
    assert re.search(r'<a[^>]*href="/articles"[^>]*>Articles</a>', doc)
