"""The help-center benchmark stays runnable: its verdicts, its command line and a tiny fill
and measurement end to end (on whichever database the suite runs)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.help_center import (
    BASELINE_PATH,
    Case,
    WsgiClient,
    _parse_args,
    cases_for,
    fill,
    format_table,
    measure,
)
from helpdesk.ratelimits import Limit
from knowledge_base.models import Article, ArticleTranslation


def _case(label: str, timings: list[float], *, baseline: bool = False) -> Case:
    return Case(label, lambda: BASELINE_PATH, baseline=baseline, timings_ms=timings, cpu_ms=timings)


def test_verdicts_against_the_targets() -> None:
    table = format_table(
        [
            _case("minimal page (one row)", [1.0] * 20, baseline=True),
            _case("search", [10.0] * 19 + [31.0]),
            _case("article, cached", [2.0] * 20),
        ]
    )

    assert "search  " in table
    assert "PASS (< 10 ms)" in table
    assert "VERDICT: PASS" in table
    failing = format_table(
        [
            _case("minimal page (one row)", [1.0] * 20, baseline=True),
            _case("search", [40.0] * 20),
        ]
    )
    assert "FAIL (≥ 30 ms)" in failing
    assert "VERDICT: FAIL (1 problem(s))" in failing
    assert "40.00× " in failing


def test_command_line() -> None:
    args = _parse_args(["--articles", "50", "--requests", "3", "--redis", ""])

    assert (args.articles, args.requests, args.redis) == (50, 3, "")
    with pytest.raises(SystemExit):
        _parse_args(["--articles", "0"])


# Through Django's real WSGI handler, which closes the connection after each request (as a
# server does), so the test cannot run inside one transaction.
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_a_tiny_run_end_to_end(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.ROOT_URLCONF = "bench.help_center_urls"
    settings.HELP_CENTER_LOCALES = ["en", "de", "fr"]
    settings.HELP_CENTER_DEFAULT_LOCALE = "en"
    monkeypatch.setattr("knowledge_base.views.SEARCH_LIMIT", Limit("bench-test-search", 10**6, 60))
    monkeypatch.setattr("knowledge_base.views.SUGGEST_LIMIT", Limit("bench-test-sug", 10**6, 60))

    filled = fill(40, seed=7)
    cases = cases_for(filled)
    measure(WsgiClient(), cases, requests=2, warmup=1)

    assert Article.objects.filter(status="published").count() == 40
    assert ArticleTranslation.objects.count() == 120
    by_label = {case.label: case for case in cases}
    assert {label: case.error for label, case in by_label.items()} == dict.fromkeys(by_label, "")
    assert all(len(case.timings_ms) == 2 for case in cases)
    # A cached article page costs no query: the view is counted in the cache.
    assert by_label["article, cached"].queries == 0
    assert by_label["article, cold"].queries > 1
    assert by_label["search"].queries == 1
