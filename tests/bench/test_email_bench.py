"""The email ingest benchmark stays honest: its generated mails are what it claims (same
bytes for the same seed, a third replies naming earlier mails, senders under the rate
limit, parseable by the product's parser) and its verdict follows the counts."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.email_fixtures import MAX_MAILS_PER_SENDER, SHAPES, generate
from bench.email_ingest import Counts, Run, SendResult, _parse_args, format_report
from channels_inbox.email.parsing import parse_email


def test_the_same_seed_gives_the_same_mails_and_another_seed_other_ones() -> None:
    first, again, other = generate(60, seed=7), generate(60, seed=7), generate(60, seed=8)

    assert [mail.raw for mail in first] == [mail.raw for mail in again]
    assert [mail.raw for mail in first] != [mail.raw for mail in other]


def test_replies_name_an_earlier_mail_of_the_same_sender_and_threads_are_consistent() -> None:
    mails = generate(600, seed=3)
    by_index = {mail.index: mail for mail in mails}
    replies = [mail for mail in mails if mail.is_reply]

    assert 0.25 < len(replies) / len(mails) < 0.38
    for reply in replies:
        parent = by_index[reply.parent]  # type: ignore[index]
        parsed = parse_email(reply.raw)
        assert parent.index < reply.index
        assert parent.sender == reply.sender
        assert parsed.in_reply_to == (parent.message_id,)
        assert parsed.references[-1] == parent.message_id


def test_mails_parse_with_their_ids_shapes_and_attachments() -> None:
    mails = generate(80, seed=5)

    assert {mail.shape for mail in mails} == set(SHAPES)
    assert len({mail.message_id for mail in mails}) == 80
    for mail in mails:
        parsed = parse_email(mail.raw)
        assert parsed.parse_error == ""
        assert parsed.message_id == mail.message_id
        assert parsed.from_address == mail.sender
        assert parsed.text.strip() != ""
        assert [a.name for a in parsed.attachments] == (
            ["receipt.pdf"] if mail.shape == "attachment" else []
        )


def test_no_sender_writes_more_than_the_cap_and_new_subjects_are_unique() -> None:
    mails = generate(2000, seed=11)
    subjects = [parse_email(mail.raw).subject for mail in mails if not mail.is_reply]

    assert max(Counter(mail.sender for mail in mails).values()) <= MAX_MAILS_PER_SENDER
    assert len(set(subjects)) == len(subjects)


def _run(*, lost: int = 0, duplicated: int = 0, seconds: float = 20.0) -> Run:
    counts = Counts(
        events=Counter({"processed": 3000}),
        messages=3000 + duplicated,
        distinct_ids=3000 - lost,
        lost=[f"lost-{n}@example.com" for n in range(lost)],
        duplicated=duplicated,
        unexpected=0,
        tickets=2000,
        expected_tickets=2000,
        misthreaded=0,
        reasons=Counter({"new_conversation": 2000, "references": 1000}),
        attachments=3000,
        last_created=1000.0 + seconds,
        event_errors=[],
    )
    send = SendResult(accepted=3000, first_sent=1000.0, last_accepted=1010.0)
    return Run(3000, 1000, send, True, counts, 10.0, 3000, {}, [0.5])


def test_verdict_passes_at_the_target_with_nothing_lost() -> None:
    report = format_report(_run(seconds=20.0))

    rates = [line.split()[-1] for line in report.splitlines() if line.startswith("end-to-end m")]
    assert rates == ["150.0"]
    assert report.splitlines()[-1] == (
        "VERDICT: PASS: end-to-end 150.0 messages/s ≥ 150, none lost, none duplicated"
    )


@pytest.mark.parametrize(
    ("run", "verdict"),
    [
        (_run(seconds=30.0), "VERDICT: FAIL (end-to-end 100.0 messages/s < 150)"),
        (_run(lost=1, seconds=10.0), "VERDICT: FAIL (1 lost)"),
        (_run(duplicated=2, seconds=10.0), "VERDICT: FAIL (2 duplicated)"),
    ],
)
def test_verdict_fails_when_slow_lost_or_duplicated(run: Run, verdict: str) -> None:
    assert format_report(run).splitlines()[-1] == verdict


@pytest.mark.parametrize("argv", [["--emails", "0"], ["--connections", "-1"], ["--pool", "gevent"]])
def test_bad_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        _parse_args(argv)
