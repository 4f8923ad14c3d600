"""Article Markdown to safe HTML.

Two layers, so neither has to be perfect alone: markdown-it renders CommonMark (plus tables
and strikethrough) with raw HTML turned off, so ``<script>`` in an article is shown as text;
then nh3 sanitizes the result against an allow-list of tags and attributes, with URLs
limited to http(s), mailto and relative addresses. Images are kept only from our own storage
(``MEDIA_URL``) or https, so an article cannot load a tracker over http or a ``data:`` URI.
External links get ``rel="noopener nofollow"``; links inside the site do not.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nh3
from django.conf import settings
from django.utils.text import slugify
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

EXTERNAL_REL = "noopener nofollow"
HEADING_ID_PREFIX = "h-"
ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_ID = re.compile(r"h-[a-z0-9-]{1,80}")
_START = re.compile(r"\d{1,6}")


def _is_external(href: str) -> bool:
    return href.startswith(("http://", "https://", "//"))


def _allowed_image(src: str) -> bool:
    media_url = settings.MEDIA_URL
    return src.startswith("https://") or (
        src.startswith(media_url) and not src.startswith("//") and ".." not in src
    )


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _allowed_image(value) else None
    if attribute == "id":
        return value if _ID.fullmatch(value) else None
    if attribute == "start":
        return value if _START.fullmatch(value) else None
    return value


def _link_open(
    renderer: RendererHTML, tokens: list[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[index]
    href = str(token.attrGet("href") or "")
    if _is_external(href):
        token.attrSet("rel", EXTERNAL_REL)
    return renderer.renderToken(tokens, index, options, env)


def _heading_open(
    renderer: RendererHTML, tokens: list[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    # Anchors for a table of contents; numbered when two headings read the same.
    token = tokens[index]
    if token.tag in {"h2", "h3", "h4"} and index + 1 < len(tokens):
        text = tokens[index + 1].content
        base = slugify(text)[:70] or "section"
        seen: dict[str, int] = env.setdefault("heading_ids", {})
        seen[base] = seen.get(base, 0) + 1
        suffix = f"-{seen[base]}" if seen[base] > 1 else ""
        token.attrSet("id", f"{HEADING_ID_PREFIX}{base}{suffix}")
    return renderer.renderToken(tokens, index, options, env)


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("link_open", _link_open)
    parser.add_render_rule("heading_open", _heading_open)
    return parser


_PARSER = _parser()


def sanitize_html(fragment: str) -> str:
    """``fragment`` reduced to the article allow-list (the second layer of
    ``render_markdown``)."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        tag_attribute_values={"a": {"rel": {EXTERNAL_REL}}},
        link_rel=None,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Article Markdown as sanitized HTML, safe to show as it is."""
    env: dict[str, Any] = {}
    # Headings written as "# Title" become h2: the page's own title is the only h1.
    rendered = _PARSER.render(_demote_h1(text), env)
    return sanitize_html(rendered)


def html_to_text(fragment: str) -> str:
    """The words of sanitized HTML without tags, for the search index and snippets."""
    text = nh3.clean(fragment, tags=set(), clean_content_tags={"script", "style"})
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


_H1 = re.compile(r"^# ", re.MULTILINE)


def _demote_h1(text: str) -> str:
    return _H1.sub("## ", text)
