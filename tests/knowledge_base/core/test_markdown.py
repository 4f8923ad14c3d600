"""Article Markdown renders to HTML that cannot carry script."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from knowledge_base.markdown import html_to_text, render_markdown


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.test/x.js></SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        '<a href="#" onclick="alert(1)">click</a>',
        '<iframe src="https://evil.test"></iframe>',
        "<svg onload=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](javascript&#58;alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "![x](javascript:alert(1))",
        '![x](https://ok.test/a.png "title" onerror="alert(1)")',
        '<div style="background:url(javascript:alert(1))">x</div>',
        "[x](<javascript:alert(1)>)",
    ],
)
def test_xss_attempts_are_neutralized(markdown: str) -> None:
    elements = _elements(render_markdown(markdown))

    for tag, attributes in elements:
        assert tag not in {"script", "iframe", "svg", "div", "object", "embed", "style"}
        for name, value in attributes:
            assert not name.startswith("on")
            assert name != "style"
            if name in {"href", "src"}:
                assert (value or "").lower().startswith(("https://", "/", "mailto:")), value


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element of ``html`` as a browser's parser sees it, with its attributes."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_raw_html_is_shown_as_text() -> None:
    assert render_markdown("Use <b>bold</b>") == "<p>Use &lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_external_links_get_noopener_nofollow_and_internal_links_do_not() -> None:
    html = render_markdown("[shop](https://shop.test/) and [help](/help/returns/)")

    assert '<a href="https://shop.test/" rel="noopener nofollow">shop</a>' in html
    assert '<a href="/help/returns/">help</a>' in html


def test_images_only_from_our_storage_or_https(settings: object) -> None:
    html = render_markdown(
        "![a](/media/kb/a.png) ![b](https://cdn.test/b.png) ![c](http://cdn.test/c.png)"
        " ![d](//cdn.test/d.png)"
    )

    assert '<img src="/media/kb/a.png" alt="a">' in html
    assert '<img src="https://cdn.test/b.png" alt="b">' in html
    assert "http://cdn.test" not in html
    assert "//cdn.test/d.png" not in html


def test_headings_get_anchors_and_the_h1_is_reserved_for_the_page() -> None:
    html = render_markdown("# Returns\n\n## Returns\n\n### Step one")

    assert html == (
        '<h2 id="h-returns">Returns</h2>\n<h2 id="h-returns-2">Returns</h2>\n'
        '<h3 id="h-step-one">Step one</h3>\n'
    )


def test_lists_tables_and_code_are_kept() -> None:
    html = render_markdown("- one\n- **two**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code`")

    assert "<ul>\n<li>one</li>\n<li><strong>two</strong></li>\n</ul>" in html
    assert "<table>" in html
    assert "<td>1</td>" in html
    assert "<code>code</code>" in html


def test_html_to_text_keeps_words_only() -> None:
    assert html_to_text(render_markdown("## Fees & <taxes>\n\nPay *now*.")) == (
        "Fees & <taxes> Pay now."
    )
