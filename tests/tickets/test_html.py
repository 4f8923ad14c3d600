"""Stored HTML: sanitized on the way in; inline images resolved to attachment URLs on the way
out."""

from __future__ import annotations

import pytest

from tickets.html import resolve_inline_images, sanitize_html

URL = "/attachments/7/photo.png"


def test_sanitizing_keeps_cid_images_and_drops_scripts() -> None:
    html = '<p onclick="x()">Hi<script>alert(1)</script><img src="cid:photo@mail"></p>'

    assert sanitize_html(html) == '<p>Hi<img src="cid:photo@mail"></p>'


def test_a_known_cid_points_at_the_attachment() -> None:
    html = sanitize_html('<p>Damage:<img src="cid:photo@mail" alt="the box"></p>')

    resolved = resolve_inline_images(html, {"photo@mail": URL})

    assert resolved == f'<p>Damage:<img src="{URL}" alt="the box"></p>'


def test_unknown_cids_are_left_untouched() -> None:
    html = sanitize_html('<img src="cid:photo@mail"><img src="cid:logo@mail">')

    resolved = resolve_inline_images(html, {"photo@mail": URL})

    assert resolved == f'<img src="{URL}"><img src="cid:logo@mail">'


def test_only_image_sources_are_rewritten() -> None:
    """A cid: in text, in a link or in another attribute is not an inline image."""
    html = sanitize_html(
        '<p>Ref cid:photo@mail src="cid:photo@mail"</p>'
        '<a href="cid:photo@mail">file</a><img alt="cid:photo@mail" src="cid:photo@mail">'
    )

    resolved = resolve_inline_images(html, {"photo@mail": URL})

    assert resolved == (
        '<p>Ref cid:photo@mail src="cid:photo@mail"</p>'
        '<a href="cid:photo@mail" rel="noopener noreferrer nofollow">file</a>'
        f'<img alt="cid:photo@mail" src="{URL}">'
    )


@pytest.mark.parametrize(
    ("reference", "content_id"),
    [
        ("cid:image001.png@01D9A1B2", "image001.png@01D9A1B2"),
        ("CID:image001.png@01d9a1b2", "image001.PNG@01D9A1B2"),
        ("cid:part1%40example.com", "part1@example.com"),
        ("cid:part1@example.com", "<part1@example.com>"),
    ],
)
def test_cids_match_their_content_id_as_mail_clients_write_them(
    reference: str, content_id: str
) -> None:
    html = sanitize_html(f'<img src="{reference}">')

    assert resolve_inline_images(html, {content_id: URL}) == f'<img src="{URL}">'


def test_urls_are_escaped_in_the_attribute() -> None:
    html = sanitize_html('<img src="cid:a@b">')

    resolved = resolve_inline_images(html, {"a@b": '/attachments/1/x.png?a=1&b="2"'})

    assert resolved == '<img src="/attachments/1/x.png?a=1&amp;b=&quot;2&quot;">'


def test_an_attribute_with_a_greater_than_sign_does_not_hide_the_source() -> None:
    html = sanitize_html('<img alt="a > b" src="cid:a@b">')

    assert resolve_inline_images(html, {"a@b": URL}) == f'<img alt="a &gt; b" src="{URL}">'


@pytest.mark.parametrize(
    ("html", "urls"),
    [
        ("", {"a@b": URL}),
        ('<img src="cid:a@b">', {}),
        ("<p>No images</p>", {"a@b": URL}),
        ('<img src="https://shop.test/logo.png">', {"a@b": URL}),
    ],
)
def test_html_without_a_known_reference_comes_back_as_it_was(
    html: str, urls: dict[str, str]
) -> None:
    assert resolve_inline_images(html, urls) == html


def test_a_blank_content_id_matches_nothing() -> None:
    html = sanitize_html('<img src="cid:">')

    assert resolve_inline_images(html, {"": URL}) == '<img src="cid:">'


def test_resolving_never_lets_unsafe_markup_through() -> None:
    """Even HTML that skipped the sanitizer comes out sanitized."""
    resolved = resolve_inline_images(
        '<img src="cid:a@b" onerror="alert(1)"><script>x</script>', {"a@b": URL}
    )

    assert resolved == f'<img src="{URL}">'
