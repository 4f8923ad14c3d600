"""The editor's browser tests use the e2e package's Chromium fixtures."""

from tests.e2e.conftest import artifacts, browser, page  # noqa: F401 - fixtures for the browser tests
