"""The help center's browser tests: a real Chromium against the real ASGI server (pages,
static files) in this process, the workspace's fixtures."""

from tests.e2e.conftest import browser, page  # noqa: F401 - fixtures for the browser tests
from tests.workspace.browser.conftest import asgi_server  # noqa: F401
