"""The article list in headless Chromium against the live server: reached from the chat page's header,
searched, filtered by source and by date, paged, each entry leading to its article and to 'Ask this
article'; and axe-core on the list, desktop and phone."""

from __future__ import annotations

import re

import pytest

from tests.browser_kit import BROWSER, CHROMIUM, DESKTOP, PHONE, axe_violations, open_page, shot

pytest_plugins = ["live_server", "browser_kit"]
pytestmark = BROWSER

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect

PARTNERS = "Partners in Defiance: Russia and Iran Move Closer to Alliance"


def titles(page: Page) -> list[str]:
    return page.locator(".entry-title a").all_text_contents()


def test_search_filter_and_page_through_the_articles(desktop: Page, live_server: str, problems: list[str]) -> None:
    page = desktop
    page.goto(live_server + "/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Articles").click()
    expect(page).to_have_url(live_server + "/articles")
    expect(page.get_by_role("heading", level=1)).to_have_text("Articles")
    expect(page.locator(".entry")).to_have_count(5)
    assert titles(page)[0] == PARTNERS  # the one dated article leads
    expect(page.locator("#list-count")).to_have_text("1–5 of 5 articles (newest first)")

    page.get_by_label("Search titles and text").fill("Lavrov")
    page.get_by_label("Search titles and text").press("Enter")
    expect(page).to_have_url(re.compile(r"/articles\?q=Lavrov"))
    lavrov = titles(page)
    assert PARTNERS in lavrov and 0 < len(lavrov) < 5

    page.get_by_label("Source", exact=True).select_option("Gulf Research Center")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".entry")).to_have_count(1)
    assert titles(page) == [PARTNERS]
    expect(page.locator(".entry-meta")).to_have_text("Gulf Research Center · Emil Avdaliani · 2024-11")
    expect(page.get_by_label("Search titles and text")).to_have_value("Lavrov")  # the form keeps the query

    page.get_by_role("link", name="Show all").click()
    page.get_by_label("From", exact=True).fill("2024-11-10")
    page.get_by_label("To", exact=True).fill("2024-12-31")
    page.get_by_role("button", name="Search").click()
    assert titles(page) == [PARTNERS]  # November 2024 overlaps; the undated ones are outside any range
    page.get_by_label("From", exact=True).fill("2024-12-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#list-count")).to_have_text("No article matches these filters.")
    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("To", exact=True).fill("2024-01-01")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("swap them")
    problems[:] = [p for p in problems if "status of 422" not in p]  # the page's own answer to the swapped range

    page.goto(live_server + "/articles?limit=2")
    pages = page.get_by_role("navigation", name="Pages of articles")
    expect(pages).to_contain_text("Page 1 of 3")
    first = titles(page)
    pages.get_by_role("link", name="Next →").click()
    expect(pages).to_contain_text("Page 2 of 3")
    second = titles(page)
    assert len(second) == 2 and not set(first) & set(second)
    shot(page, "desktop-article-list")

    page.get_by_role("link", name=f"Ask this article: {second[0]}").click()
    expect(page.locator("#only-note")).to_contain_text(f"Asking only {second[0]}")
    page.go_back()
    page.get_by_role("link", name=second[1], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(second[1])


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_list_has_no_accessibility_violations(browser: Browser, live_server: str, problems: list[str],
                                                  viewport: str) -> None:
    page = open_page(browser, DESKTOP if viewport == "desktop" else PHONE, problems, bypass_csp=True)
    try:
        page.goto(live_server + "/articles?limit=2&offset=2")
        expect(page.locator(".entry")).to_have_count(2)
        assert axe_violations(page) == []
        page.goto(live_server + "/articles?from=2025-99-01")
        expect(page.get_by_role("alert")).to_be_visible()
        assert axe_violations(page) == []
        if viewport == "phone":
            page.goto(live_server + "/articles")
            shot(page, "phone-article-list", full_page=True)
    finally:
        page.context.close()
    # the server's page as a browser without JavaScript gets it: it searches all the same
    bare = open_page(browser, DESKTOP, problems)
    try:
        bare.route("**/static/app.js", lambda route: route.abort())
        bare.goto(live_server + "/articles")
        bare.get_by_label("Search titles and text").fill("Zangezur")
        bare.get_by_role("button", name="Search").click()
        expect(bare).to_have_url(re.compile(r"q=Zangezur"))
        assert PARTNERS in titles(bare)
    finally:
        bare.context.close()
    problems[:] = [p for p in problems if "Failed to load resource" not in p]
