"""What the browser tests share (a pytest plugin: `pytest_plugins = ["live_server", "browser_kit"]`):
Debian's Chromium driven by Playwright (its own browser download is never used), a fresh page per
test that counts any dialog, page error or console error as a problem, screenshots into
test-artifacts/, and axe-core's accessibility check from the vendored tests/vendor/axe.min.js.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# every browser test module: `pytestmark = BROWSER`
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: install it with "
                       "`apt-get install chromium` to run the browser tests"),
]

if CHROMIUM.exists():
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, viewport: dict[str, int], problems: list[str], **options: Any) -> Page:
    """A fresh context and page; any dialog (an XSS firing), page error or console error is a problem."""
    context = browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
    page = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        problems.append(f"dialog fired: {dialog.message}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return page


@pytest.fixture
def problems() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert found == [], found


@pytest.fixture
def desktop(browser: Browser, problems: list[str]) -> Iterator[Page]:
    page = open_page(browser, DESKTOP, problems)
    yield page
    page.context.close()


def shot(page: Page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def settle(page: Page, ready: Callable[[], bool], message: str, tries: int = 200) -> None:
    """Wait until `ready()` holds (the page's CSP forbids wait_for_function's string predicates)."""
    for _ in range(tries):
        if ready():
            return
        page.wait_for_timeout(50)
    raise AssertionError(message)


def until_still(page: Page, polls: int = 3) -> None:
    """Wait until the page has stopped scrolling (a smooth scroll to a new answer runs for several frames,
    longer on a loaded machine): scrollY the same over `polls` checks 50 ms apart."""
    seen: list[float] = []

    def still() -> bool:
        seen.append(page.evaluate("window.scrollY"))
        return len(seen) >= polls and len(set(seen[-polls:])) == 1

    settle(page, still, "the page kept scrolling")


def type_and_send(page: Page, text: str) -> None:
    box = page.get_by_label("Your question")
    box.click()
    box.fill(text)
    box.press("Enter")


AXE = Path(__file__).with_name("vendor") / "axe.min.js"  # axe-core 4.14.1 (MPL-2.0, header kept), from npm


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it stands, one line each (rule, impact, first target)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations.map((v) => "
                          "v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3)"
                          ".join(', '))")
    return list(found)
