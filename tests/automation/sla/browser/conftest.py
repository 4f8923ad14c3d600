"""Browser fixtures for the SLA settings pages."""

from tests.e2e.conftest import browser, page  # noqa: F401 - fixtures for the browser tests
