"""A visitor in a real Chromium: browsing, searching with suggestions by keyboard, and
answering "Was this helpful?"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from knowledge_base.models import ArticleFeedback
from tests.e2e.conftest import PHONE
from tests.knowledge_base.help_center.conftest import HelpCenter
from tests.workspace.browser.conftest import AsgiServer

pytestmark = [pytest.mark.e2e]


def test_browse_home_category_article(
    asgi_server: AsgiServer, page: Page, help_center: HelpCenter, tmp_path: Path
) -> None:
    page.goto(f"{asgi_server.url}/help/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    page.screenshot(path=tmp_path / "home-desktop.png", full_page=True)

    page.get_by_role("link", name=re.compile("^Shipping")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shipping")
    page.screenshot(path=tmp_path / "category-desktop.png", full_page=True)

    page.get_by_role("link", name="Track your parcel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Track your parcel")
    expect(page).to_have_url(f"{asgi_server.url}/help/shipping/track-your-parcel/")
    expect(page.get_by_role("complementary")).to_contain_text("Shipping costs")
    page.screenshot(path=tmp_path / "article-desktop.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=tmp_path / "article-desktop-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")

    page.locator(".help-locales summary").click()
    page.get_by_role("link", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sendung verfolgen")
    expect(page).to_have_url(f"{asgi_server.url}/help/de/shipping/track-your-parcel/")


def test_suggestions_while_typing_by_keyboard(
    asgi_server: AsgiServer, page: Page, help_center: HelpCenter, tmp_path: Path
) -> None:
    page.goto(f"{asgi_server.url}/help/")
    search = page.get_by_role("combobox", name="Search the help center")
    search.focus()

    page.keyboard.type("ship")

    options = page.get_by_role("listbox", name="Suggested articles").get_by_role("option")
    expect(options.first).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("listbox").locator("mark").first).to_have_text(
        re.compile("ship", re.IGNORECASE)
    )
    titles = options.all_inner_texts()
    assert not any("Secret draft" in title for title in titles)
    page.screenshot(path=tmp_path / "suggestions-desktop.png")

    page.keyboard.press("ArrowDown")
    first_id = options.first.get_attribute("id")
    expect(search).to_have_attribute("aria-activedescendant", first_id or "")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/help/shipping/[a-z-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_search_page_from_the_search_box(
    asgi_server: AsgiServer, page: Page, help_center: HelpCenter
) -> None:
    page.goto(f"{asgi_server.url}/help/shipping/")
    search = page.get_by_role("combobox", name="Search the help center")
    search.fill("refund")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"/help/search/\?q=refund"))
    expect(page.get_by_role("link", name="When do I get my refund?")).to_be_visible()


def test_feedback_click(asgi_server: AsgiServer, page: Page, help_center: HelpCenter) -> None:
    page.goto(f"{asgi_server.url}/help/shipping/track-your-parcel/")
    page.get_by_text("Add a comment (optional)").click()
    page.get_by_label("What could we improve?").fill("Clear, thanks.")

    page.get_by_role("button", name="Yes").click()

    expect(page.get_by_role("status").filter(has_text="Thanks for your feedback!")).to_be_visible()
    feedback = ArticleFeedback.objects.get()
    assert (feedback.article_id, feedback.helpful, feedback.comment) == (
        help_center.track.pk,
        True,
        "Clear, thanks.",
    )


def test_phone_width(
    asgi_server: AsgiServer, browser: Browser, help_center: HelpCenter, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    phone = context.new_page()
    try:
        for name, path in [
            ("home", "/help/"),
            ("category", "/help/shipping/"),
            ("article", "/help/de/shipping/customs-fees/"),
            ("search", "/help/search/?q=shipping"),
        ]:
            phone.goto(f"{asgi_server.url}{path}")
            # Nothing wider than the screen.
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name} is {width}px wide"
            phone.screenshot(path=tmp_path / f"{name}-phone.png", full_page=True)
        phone.emulate_media(color_scheme="dark")
        phone.goto(f"{asgi_server.url}/help/shipping/track-your-parcel/")
        background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 21, 27)"  # the dark theme's --bg
        phone.screenshot(path=tmp_path / "article-phone-dark.png", full_page=True)
    finally:
        context.close()
