"""The channel accounts settings page in a real Chromium, at desktop and phone width."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import User
from tests.workspace.browser.conftest import AsgiServer

pytestmark = [pytest.mark.e2e]

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def artifacts() -> Path:
    folder = Path(__file__).resolve().parents[3] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def test_an_admin_reads_the_webhook_urls_and_switches_an_account_off(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    admin: User,
    email_account: ChannelAccount,
    whatsapp_account: ChannelAccount,
    artifacts: Path,
) -> None:
    InboundEvent.objects.create(
        channel_account=whatsapp_account, external_id="wamid.1", payload=b"{}", status="processed"
    )
    page.goto(f"{asgi_server.url}/settings/channels/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Channel accounts")).to_be_visible()
    expect(page.locator(".ch-url")).to_contain_text(f"/webhooks/whatsapp/{whatsapp_account.slug}/")
    page.screenshot(path=artifacts / "settings-channels-desktop.png", full_page=True)
    phone = browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    phone_page.screenshot(path=artifacts / "settings-channels-phone.png", full_page=True)
    phone.close()

    page.get_by_role("button", name=f"Deactivate {whatsapp_account.name}").click()

    expect(page.get_by_role("button", name=f"Activate {whatsapp_account.name}")).to_be_visible()
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.is_active is False
    page.get_by_role("link", name=whatsapp_account.name).click()
    expect(page.get_by_role("heading", name="Approved templates")).to_be_visible()
    page.screenshot(path=artifacts / "settings-channel-whatsapp-desktop.png", full_page=True)
