"""An agent writes an article in the editor, in a real browser: the slug follows the title,
the preview follows the body (sanitized), an image goes in by upload, Ctrl+S saves, publish
and history work; the list works at phone width."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from helpdesk.models import User
from knowledge_base import services
from knowledge_base.models import Article, ArticleImage
from tests.e2e.conftest import PHONE, outside_event_loop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("pw")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


def test_agent_writes_previews_uploads_saves_and_publishes(
    live_server: Any, page: Page, agent: User, tmp_path: Path, artifacts: Path
) -> None:
    outside_event_loop(
        lambda: services.save_category("shipping", names={"en": ("Shipping", "Parcels")})
    )
    image_path = tmp_path / "box.png"
    buffer = BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 60)).save(buffer, format="PNG")
    image_path.write_bytes(buffer.getvalue())
    base = str(live_server.url)

    sign_in(page, base, "/knowledge/new/")
    page.get_by_label("Title").fill("Where is my parcel?")
    expect(page.get_by_label("Slug")).to_have_value("where-is-my-parcel")
    body = page.locator("textarea[name=body_markdown]")
    body.fill("## Tracking\n\n- **Open** the mail <script>alert(1)</script>")
    body.dispatch_event("input")
    preview = page.locator("#kb-preview")
    expect(preview.locator("h2")).to_have_text("Tracking")
    expect(preview.locator("strong")).to_have_text("Open")
    expect(preview.locator("script")).to_have_count(0)

    page.get_by_role("button", name="Insert image…").click()
    page.locator("#kb-image-file").set_input_files(str(image_path))
    page.locator("#kb-image-alt").fill("The parcel")
    page.get_by_role("button", name="Upload and insert").click()
    expect(page.locator("[data-upload-status]")).to_have_text("Inserted into the body.")
    image = ArticleImage.objects.get()
    expect(body).to_have_value(
        f"## Tracking\n\n- **Open** the mail <script>alert(1)</script>\n\n"
        f"![The parcel]({image.file.url})"
    )
    expect(preview.locator("img")).to_have_attribute("src", image.file.url)

    with page.expect_navigation():
        body.press("Control+s")
    expect(page.locator(".kb-message")).to_contain_text("Draft created.")
    article = Article.objects.get()
    assert article.slug == "where-is-my-parcel"
    assert article.status == Article.Status.DRAFT

    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".kb-status")).to_have_text("Published")
    page.get_by_role("link", name="History (1)").click()
    expect(page.locator(".kb-diff-added").first).to_contain_text("Title: Where is my parcel?")
    page.screenshot(path=str(artifacts / "kb-editor-history.png"))
    assert Article.objects.get().status == Article.Status.PUBLISHED


def test_the_list_works_at_phone_width(
    live_server: Any,
    browser: Any,
    agent: User,
    artifacts: Path,
) -> None:
    def make() -> None:
        category = services.save_category("orders", names={"en": ("Orders", "")})
        services.create_article(
            category=category, slug="cancel", author=agent, locale="en", title="Cancel an order"
        )

    outside_event_loop(make)
    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    base = str(live_server.url)

    sign_in(phone, base, "/knowledge/")
    phone.keyboard.press("/")
    expect(phone.get_by_label("Search")).to_be_focused()
    phone.get_by_role("link", name="Cancel an order").click()
    expect(phone.get_by_label("Title")).to_have_value("Cancel an order")
    width = phone.evaluate("document.documentElement.scrollWidth")
    phone.screenshot(path=str(artifacts / "kb-editor-phone.png"))
    context.close()
    assert width <= PHONE["width"]
