"""Plain text from mail HTML, and the HTML of a reply without the message it quotes.

Mail HTML marks lines in different ways (Gmail: one ``div`` per line, Outlook: one
``p.MsoNormal`` per line, everyone else: paragraphs and ``br``), so the text is written
line by line the way a mail client would show it, with blockquotes as "> " lines.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

SKIPPED = {"script", "style", "head", "title", "noscript", "template", "meta", "link", "object"}
LINE_BLOCKS = {
    "address", "article", "aside", "center", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "form", "header", "li", "main", "nav", "section", "table", "tbody", "tfoot",
    "thead", "tr", "ul", "ol",
}  # fmt: skip
PARAGRAPH_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre"}
NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)
SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
MAX_HTML = 5_000_000

OUR_MARKER = "##- Please type your reply above this line -##"
# Containers that hold the quoted message, by mail client (providers.md §5.5).
QUOTE_SELECTORS = (
    "div.gmail_quote",
    "blockquote.gmail_quote",
    "div.gmail_quote_container",
    "div.gmail_attr",
    'blockquote[type="cite"]',
    "div.moz-cite-prefix",
    "div.yahoo_quoted",
    '[id^="yahoo_quoted"]',
    "div.moz-signature",
    "pre.moz-signature",
    "div.gmail_signature",
)
# Markers after which everything is the quoted message (Outlook on the web and desktop).
CUT_SELECTORS = (
    "div#divRplyFwdMsg",
    "div#appendonsend",
    "hr#stopSpelling",
    "div.OutlookMessageHeader",
)
# Each selector alone walks the whole tree; a list of them walks it once. Matches come in
# document order, so an ancestor is seen, and removed, before what it contains.
ANY_QUOTE = ", ".join(QUOTE_SELECTORS)
ANY_CUT = ", ".join(CUT_SELECTORS)
OUTLOOK_HEADER_BORDER = re.compile(r"border-top:\s*solid\s*#(?:E1E1E1|B5C4DF)", re.I)


def parse_html(html: str) -> BeautifulSoup:
    html = html[:MAX_HTML]
    try:
        return BeautifulSoup(html, "lxml")
    except Exception:  # lxml refuses some byte soups that the pure-Python parser takes
        return BeautifulSoup(html, "html.parser")


class TextWriter:
    """Collects lines; block elements ask for a line or paragraph break that is only
    written when more text follows, so nested blocks do not pile up blank lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line = ""
        self.depth = 0
        self.pending = 0  # 1: new line, 2: new paragraph

    def prefix(self) -> str:
        return "> " * self.depth

    def end_line(self) -> None:
        self.lines.append((self.prefix() + self.line).rstrip())
        self.line = ""

    def apply_pending(self) -> None:
        if self.pending and self.line.strip():
            self.end_line()
        if self.pending == 2 and self.lines and self.lines[-1].strip("> "):
            self.lines.append(self.prefix().rstrip())
        self.pending = 0

    def request(self, kind: int) -> None:
        self.pending = max(self.pending, kind)

    def write(self, text: str, *, preformatted: bool = False) -> None:
        if preformatted:
            for index, part in enumerate(text.replace("\r\n", "\n").split("\n")):
                if index:
                    self.end_line()
                if part:
                    self.apply_pending()
                    self.line += part.replace("\u00a0", " ")
            return
        text = SPACES.sub(" ", text)
        if not text.strip() and (self.pending or not self.line.strip()):
            return
        self.apply_pending()
        if not self.line.strip():
            text = text.lstrip()
        self.line += text

    def line_break(self) -> None:
        self.apply_pending()
        if self.line.strip():
            self.end_line()
        else:
            self.line = ""
            self.lines.append(self.prefix().rstrip())

    def set_depth(self, depth: int) -> None:
        if self.line.strip():
            self.end_line()
        self.line = ""
        if self.pending == 2 and self.lines and self.lines[-1].strip("> "):
            self.lines.append(("> " * min(self.depth, depth)).rstrip())
        self.pending = 0
        self.depth = depth

    def result(self) -> str:
        if self.line.strip():
            self.end_line()
        text = "\n".join(self.lines)
        text = re.sub(r"\n(?:[ >]*\n){2,}", "\n\n", text)
        return text.strip("\n").rstrip()


def walk(node: Tag, writer: TextWriter, *, preformatted: bool = False) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, NOT_TEXT):
                writer.write(str(child), preformatted=preformatted)
            continue
        if not isinstance(child, Tag):
            continue
        name = (child.name or "").lower()
        if name in SKIPPED:
            continue
        if name == "br":
            writer.line_break()
            continue
        if name == "blockquote":
            writer.request(2)
            writer.set_depth(writer.depth + 1)
            walk(child, writer, preformatted=preformatted)
            writer.set_depth(writer.depth - 1)
            writer.request(2)
            continue
        if name in ("td", "th"):
            writer.write(" ")
        block = 0
        if name in PARAGRAPH_BLOCKS:
            # Outlook writes one paragraph per line; its empty paragraphs are the blank lines.
            block = 1 if "MsoNormal" in (child.get("class") or []) else 2
        elif name in LINE_BLOCKS:
            block = 1
        if block:
            writer.request(block)
        if name == "p" and not child.get_text().strip(" \t\r\n\u00a0") and not child.find("img"):
            # An empty paragraph is a blank line on screen (Outlook's <o:p>&nbsp;</o:p>).
            writer.line_break()
            continue
        if name == "li":
            writer.apply_pending()
            writer.write("- ")
        if name == "hr":
            writer.write("----")
        walk(child, writer, preformatted=preformatted or name == "pre")
        if block:
            writer.request(block)


def html_to_text(html: str) -> str:
    """The text a reader sees in ``html``, with line breaks where the mail client shows them."""
    if not html or not html.strip():
        return ""
    soup = parse_html(html)
    return soup_to_text(soup)


def soup_to_text(soup: BeautifulSoup) -> str:
    writer = TextWriter()
    try:
        walk(soup, writer)
    except RecursionError:
        # Absurdly deep markup: fall back to the flat text, readable if not pretty.
        return "\n".join(line.strip() for line in soup.get_text("\n").splitlines() if line.strip())
    return writer.result()


def remove_from(tag: Tag) -> None:
    """Remove ``tag`` and everything after it in document order."""
    node: Tag | None = tag
    while node is not None and node.name not in ("body", "html", "[document]"):
        for sibling in list(node.next_siblings):
            sibling.extract()
        node = node.parent
    tag.decompose()


def reply_text_from_html(html: str) -> str | None:
    """The text of ``html`` without the quoted message, attribution and signature containers,
    or None when the HTML has none of the known quote structures."""
    if not html or not html.strip():
        return None
    soup = parse_html(html)
    found = False
    marker = soup.find(string=lambda value: value is not None and OUR_MARKER in value)
    if marker is not None and isinstance(marker.parent, Tag):
        remove_from(marker.parent)
        found = True
    # Most mail has none of the markers: one walk to learn that. When some are there, they
    # are cut in the order of CUT_SELECTORS, each cut changing what the next one finds.
    if soup.select_one(ANY_CUT) is not None:
        for selector in CUT_SELECTORS:
            tag = soup.select_one(selector)
            if tag is not None and tag.parent is not None:
                remove_from(tag)
                found = True
    for tag in soup.find_all("div", style=OUTLOOK_HEADER_BORDER):
        if tag.parent is not None:
            remove_from(tag)
            found = True
            break
    for tag in soup.select(ANY_QUOTE):
        if not tag.decomposed and tag.parent is not None:
            tag.decompose()
            found = True
    if not found:
        return None
    try:
        return soup_to_text(soup)
    except RecursionError:
        return None
