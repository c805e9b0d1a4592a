"""Feedback on an answer in headless Chromium against the live server: "Helpful" and "Wrong quote" (with
a comment) from the keyboard, one verdict however often it is clicked, the thanks kept after a reload, a
failed send offered again, what the feedback file then holds, and axe-core on the buttons and the form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from index.settings import Settings
from tests.browser_kit import BROWSER, CHROMIUM, DESKTOP, PHONE, axe_violations, open_page, shot, type_and_send

pytest_plugins = ["live_server", "browser_kit"]
pytestmark = BROWSER

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, Request, expect

LAVROV = "What did Lavrov say about the agreement?"
TRADE = "Why did bilateral trade fall?"
JETS = "Has Iran received the Su-35 jets?"


def last_lines(settings: Settings, n: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in settings.feedback_path.read_text(encoding="utf-8").splitlines()[-n:]]


def ask(page: Page, question: str) -> None:
    type_and_send(page, question)
    expect(page.locator(".exchange").last.locator(".meta")).to_be_visible()


def test_helpful_and_wrong_quote_from_the_keyboard_sent_once(desktop: Page, live_server: str,
                                                             seed_settings: Settings) -> None:
    page = desktop
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/api/feedback") else None)
    page.goto(live_server + "/")
    ask(page, LAVROV)
    first = page.locator(".exchange").nth(0)
    expect(first.get_by_role("group", name="Feedback on this answer")).to_be_visible()
    first.get_by_role("button", name="Helpful").focus()
    page.keyboard.press("Enter")
    thanks = first.get_by_role("status")
    expect(thanks).to_have_text("Thanks: marked as helpful.")
    expect(thanks).to_be_focused()  # the buttons are gone; focus did not fall to the page
    expect(first.get_by_role("button")).to_have_count(0)
    assert len(sent) == 1
    helpful = last_lines(seed_settings, 1)[0]
    assert helpful["verdict"] == "helpful" and helpful["question"] == LAVROV and helpful["comment"] is None

    ask(page, TRADE)
    second = page.locator(".exchange").nth(1)
    wrong = second.get_by_role("button", name="Wrong quote")
    expect(wrong).to_have_attribute("aria-expanded", "false")
    wrong.focus()
    page.keyboard.press("Enter")
    expect(wrong).to_have_attribute("aria-expanded", "true")
    box = second.get_by_label("What is wrong with the quote?")
    expect(box).to_be_focused()
    page.keyboard.type("It quotes the cause of a different fall.")
    page.keyboard.press("Tab")
    expect(second.get_by_role("button", name="Send report")).to_be_focused()
    shot(page, "desktop-feedback-wrong-quote")
    page.keyboard.press("Enter")
    expect(second.get_by_role("status")).to_have_text("Thanks: flagged for review.")
    wrong_line = last_lines(seed_settings, 1)[0]
    assert wrong_line["verdict"] == "wrong_quote" and wrong_line["question"] == TRADE
    assert wrong_line["comment"] == "It quotes the cause of a different fall."
    assert len(sent) == 2

    # a slow server and an impatient reader: clicked three times, sent once
    held: list[Any] = []
    page.route("**/api/feedback", lambda route: held.append(route))
    ask(page, JETS)
    third = page.locator(".exchange").nth(2)
    helpful_button = third.get_by_role("button", name="Helpful")
    helpful_button.click()
    expect(helpful_button).to_be_disabled()
    helpful_button.click(force=True)
    helpful_button.dblclick(force=True)
    assert len(held) == 1
    held[0].continue_()
    expect(third.get_by_role("status")).to_have_text("Thanks: marked as helpful.")
    page.unroute("**/api/feedback")
    assert len(sent) == 3

    page.reload()  # the verdicts are kept with the conversation: thanks, never the buttons again
    expect(page.locator(".exchange")).to_have_count(3)
    expect(page.locator(".exchange .feedback-done")).to_have_count(3)
    expect(page.locator(".exchange .feedback button")).to_have_count(0)
    shot(page, "desktop-feedback-thanks", full_page=True)


def test_a_feedback_that_failed_can_be_sent_again(desktop: Page, live_server: str, problems: list[str],
                                                  seed_settings: Settings) -> None:
    page = desktop
    page.goto(live_server + "/")
    ask(page, LAVROV)
    page.route("**/api/feedback", lambda route: route.abort())
    helpful = page.get_by_role("button", name="Helpful")
    helpful.click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your feedback was not sent. Could not reach Verbatim. Please try again.")
    expect(helpful).to_be_enabled()
    page.unroute("**/api/feedback")
    before = len(seed_settings.feedback_path.read_text(encoding="utf-8").splitlines())
    helpful.click()
    expect(page.get_by_role("status")).to_have_text("Thanks: marked as helpful.")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert len(seed_settings.feedback_path.read_text(encoding="utf-8").splitlines()) == before + 1
    problems[:] = [p for p in problems if "Failed to load resource" not in p]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_feedback_has_no_accessibility_violations(browser: Browser, live_server: str, problems: list[str],
                                                  viewport: str) -> None:
    page = open_page(browser, DESKTOP if viewport == "desktop" else PHONE, problems, bypass_csp=True)
    try:
        page.goto(live_server + "/")
        ask(page, LAVROV)
        expect(page.get_by_role("button", name="Helpful")).to_be_visible()
        assert axe_violations(page) == []
        page.get_by_role("button", name="Wrong quote").click()
        expect(page.get_by_label("What is wrong with the quote?")).to_be_visible()
        assert axe_violations(page) == []
        page.get_by_role("button", name="Send report").click()
        expect(page.get_by_role("status")).to_be_visible()
        assert axe_violations(page) == []
        if viewport == "phone":
            shot(page, "phone-feedback-thanks")
    finally:
        page.context.close()
