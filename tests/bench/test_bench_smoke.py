"""The ticket-list benchmark stays runnable: its verdict logic, its command line, and (on
PostgreSQL only, since the fill uses COPY) a tiny fill and measurement end to end."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from bench.fill import _missing_defaults, fill, vacuum_analyze
from bench.ticket_list import (
    BASELINE_PATH,
    TICKET_LIST_PATH,
    Case,
    CaseResult,
    WsgiClient,
    _check_response,
    _parse_args,
    agent_token,
    cases_for,
    format_table,
    measure,
)
from tickets.models import Tag

BASELINE = Case("minimal endpoint (one row)", BASELINE_PATH, baseline=True)
LIST = Case("tickets, default first page", TICKET_LIST_PATH)


def _result(case: Case, timings: list[float]) -> CaseResult:
    return CaseResult(case, timings, queries=3, rows=25, cpu_ms=timings)


def test_p95_is_the_nearest_rank() -> None:
    """Of 1..100 ms the 95th percentile is 95 ms; of 1..20 ms it is 19 ms."""
    assert _result(LIST, [float(n) for n in range(100, 0, -1)]).p95_ms == 95.0
    assert _result(LIST, [float(n) for n in range(1, 21)]).p95_ms == 19.0
    assert _result(LIST, [4.0, 1.0, 2.0, 3.0]).median_ms == 2.5


def test_table_passes_a_list_within_both_targets() -> None:
    """p95 5 ms against a 2 ms baseline: 2.5×, under 30 ms: PASS."""
    table = format_table([_result(BASELINE, [2.0] * 20), _result(LIST, [5.0] * 20)])

    assert "2.50×" in table
    assert table.splitlines()[-1].startswith("VERDICT: PASS")


def test_table_fails_a_list_over_the_ratio() -> None:
    """p95 7 ms against a 2 ms baseline is 3.5×: FAIL, though far under 30 ms."""
    table = format_table([_result(BASELINE, [2.0] * 20), _result(LIST, [7.0] * 20)])

    assert "VERDICT: FAIL (1 problem(s))" in table
    assert "tickets, default first page: p95 is 3.50× the baseline's (limit 3.0×)" in table


def test_table_fails_a_list_over_30_ms() -> None:
    """p95 31 ms fails the absolute target even when the baseline is slow too."""
    table = format_table([_result(BASELINE, [20.0] * 20), _result(LIST, [31.0] * 20)])

    assert "tickets, default first page: p95 31.00 ms ≥ 30 ms" in table
    assert "1.55×" in table
    assert "VERDICT: FAIL (1 problem(s))" in table


def test_a_failed_request_is_an_error_not_a_figure() -> None:
    """A 404, a response without results or an ignored filter is reported, never timed."""
    filtered = Case("open", TICKET_LIST_PATH, "status=open", expect={"status": "open"})

    assert _check_response(LIST, 404, b"Not found")[1] == "HTTP 404: Not found"
    assert _check_response(LIST, 200, b'{"detail": "x"}') == (0, "no results list in the response")
    assert _check_response(filtered, 200, b'{"results": [{"status": "closed"}]}') == (
        1,
        "filter ignored: a row has status='closed'",
    )
    assert _check_response(filtered, 200, b'{"results": [{"status": "open"}]}') == (1, "")
    error = CaseResult(LIST, [], 0, 0, error="HTTP 404: Not found")
    table = format_table([_result(BASELINE, [2.0]), error])
    assert "tickets, default first page: HTTP 404: Not found" in table
    assert "ERROR" in table


def test_fill_gives_unnamed_columns_their_defaults() -> None:
    """A column the fill does not name is written with the field's default."""
    assert _missing_defaults(Tag, ("name", "created_at")) == {"color": ""}


def test_fill_refuses_a_required_column_without_default() -> None:
    """A required column with no default stops the fill before any COPY."""
    with pytest.raises(RuntimeError, match=r"^bench.fill does not fill Tag.created_at$"):
        _missing_defaults(Tag, ("name",))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tickets", "0"], "argument --tickets: must be at least 1"),
        (["--tickets", "many"], "argument --tickets: invalid _positive value: 'many'"),
        (["--requests", "-1"], "argument --requests: must be at least 1"),
        (["--warmup", "-1"], "argument --warmup: must be 0 or more"),
    ],
)
def test_command_line_refuses_bad_counts(argv: list[str], message: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse_args(argv)

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"error: {message}")


def test_command_line_defaults() -> None:
    args = _parse_args([])

    assert (args.tickets, args.requests, args.warmup, args.keep) == (100_000, 200, 20, False)


@pytest.mark.django_db(transaction=True)
# WhiteNoise warns that collectstatic has not run; the benchmark requests no static file.
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_fill_and_measure_end_to_end(settings: Any) -> None:
    """200 tickets, three timed requests per case: every case answers and is measured."""
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark fills PostgreSQL with COPY; DATABASE_URL is not PostgreSQL")
    settings.ROOT_URLCONF = "bench.urls"

    desk = fill(200, seed=7)
    vacuum_analyze()
    client = WsgiClient(agent_token(desk.measuring_agent_id))
    cases = cases_for(desk)
    results = measure(client, cases, requests=3, warmup=1)
    table = format_table(results)

    assert desk.tickets == 200
    assert desk.messages >= 200
    assert [result.error for result in results] == [""] * len(cases)
    assert all(len(result.timings_ms) == 3 for result in results)
    assert results[0].rows == 1
    assert results[1].rows == 25
    assert all(result.queries > 0 for result in results)
    for case in cases:
        assert case.label in table
    assert "minimal endpoint (one row)" in table
    assert "tickets, default first page" in table
    assert "tickets, pending on WhatsApp" in table
    assert any(line.startswith("VERDICT: ") for line in table.splitlines())
