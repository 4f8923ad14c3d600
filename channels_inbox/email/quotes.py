"""The part of a reply the customer wrote: quoted message, attribution and signature removed.

Strategies, best first (providers.md §5.5): our own marker line, the HTML structure mail
clients put around the quote, then text heuristics in several languages. The full text stays
on the message, so nothing removed here is lost.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from mailparser_reply import EmailReplyParser

from .htmltext import OUR_MARKER, reply_text_from_html

# Attribution lines ("On <date>, <name> wrote:") by language; a line may wrap over three.
ATTRIBUTIONS = [
    re.compile(pattern, re.I)
    for pattern in (
        r"on\b.{0,250}\bwrote\s?:",  # en
        r"am\b.{0,250}\bschrieb\b.{0,250}:",  # de
        r"le\b.{0,250}\ba\s[ée]crit\s?:",  # fr
        r"el\b.{0,250}\bescribi[óo]\s?:",  # es
        r"op\b.{0,250}\bschreef\b.{0,250}:",  # nl
        r"il\b.{0,250}\bha\sscritto\s?:",  # it
        r"(?:em|no\sdia)\b.{0,250}\bescreveu\s?:",  # pt
        r"den\b.{0,250}\bskrev\b.{0,250}:",  # sv, da
    )
]
# Any language, on one line: an address in angle brackets right before a "wrote" verb.
ANY_LANGUAGE_ATTRIBUTION = re.compile(
    r".{0,250}<[^<>\s]+@[^<>\s]+>\)?\s?(?:wrote|schrieb|a\s[ée]crit|escribi[óo]|schreef|"
    r"ha\sscritto|escreveu|skrev|napisa[łl]\S{0,4}|kirjoitti)\s?:",
    re.I,
)
ORIGINAL_MESSAGE = re.compile(
    r"-{2,}\s*(?:original\smessage|urspr[üu]ngliche\snachricht|message\sd'origine|"
    r"mensaje\soriginal|oorspronkelijk\sbericht|messaggio\soriginale|mensagem\soriginal|"
    r"ursprungligt\smeddelande|oprindelig\smeddelelse|opprinnelig\smelding)\s*-{2,}",
    re.I,
)
FORWARD_MARKERS = re.compile(
    r"(?:-{2,}\s*(?:forwarded\smessage|weitergeleitete\snachricht|message\stransf[ée]r[ée]|"
    r"mensaje\sreenviado|doorgestuurd\sbericht|messaggio\sinoltrato|mensagem\sencaminhada|"
    r"vidarebefordrat\smeddelande)\s*-{2,}|begin\sforwarded\smessage\s?:|"
    r"anfang\sder\sweitergeleiteten\snachricht\s?:|d[ée]but\sdu\smessage\sr[ée]exp[ée]di[ée]\s?:|"
    r"inicio\sdel\smensaje\sreenviado\s?:)",
    re.I,
)
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|wg|tr|rv|doorst|enc|vs|vl|i)\s?:", re.I)
# Outlook's header block: "From:" then, on one of the next lines, "Sent:"/"Date:"/"To:".
HEADER_FROM = re.compile(r"^\*?(?:from|von|de|van|da|fr[åa]n|fra|od)\s?:\*?\s?\S", re.I)
HEADER_NEXT = re.compile(
    r"^\*?(?:sent|date|to|subject|gesendet|datum|an|betreff|envoy[ée]|[àa]|objet|enviado|fecha|"
    r"para|asunto|verzonden|aan|onderwerp|inviato|data|oggetto|skickat|till|[äa]mne|sendt|til|"
    r"emne|wys[łl]ano|do|temat|assunto)\s?:",
    re.I,
)
SENT_FROM_DEVICE = re.compile(
    r"^(?:sent\sfrom\s(?:my|mail\sfor|outlook|yahoo)|get\soutlook\sfor|gesendet\s(?:von|mit)\s|"
    r"von\smeinem\s.{1,40}\sgesendet|envoy[ée]\s(?:de|depuis)\s|enviado\s(?:desde|do|de)\s|"
    r"verzonden\s(?:vanaf|met)\s|verstuurd\svanaf\s|inviato\sda\s|skickat\sfr[åa]n\s|sendt\sfra\s)"
    r".{0,80}$",
    re.I,
)
SEPARATOR_LINE = re.compile(r"^[\s_\-=*]{3,}$")
# Languages whose mail-parser-reply patterns are strict enough to run on every mail
# (Polish matches a single "Data:" line, which customers write).
MAILPARSER_LANGUAGES = ["en", "de", "fr", "es", "nl", "it", "sv", "da", "cs"]
MAILPARSER_HEADERS = EmailReplyParser(languages=MAILPARSER_LANGUAGES).read("").HEADER_REGEX
ATTRIBUTION_SPAN = 3
MAX_LINES = 5000


def reply_text(text: str, html: str = "", subject: str = "") -> str:
    """The customer's new text in a reply: what is above the quote, without the signature.

    A forward keeps everything (the forwarded message is the point of it), and a reply whose
    own text cannot be told apart from the quote keeps its full text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    full = text.strip()
    if FORWARD_SUBJECT.match(subject or "") or first_split(text, forwards=True) == "forward":
        return full
    if OUR_MARKER in text:
        above = text[: text.index(OUR_MARKER)]
        return strip_reply(above.rsplit("\n", 1)[0] if "\n" in above else "") or full
    if html:
        from_html = reply_text_from_html(html)
        if from_html is not None:
            stripped = strip_reply(from_html)
            if stripped:
                return stripped
    return strip_reply(text) or full


def strip_reply(text: str) -> str:
    """Text heuristics: cut at the first attribution or header block, then the signature,
    then trailing quoted lines. Bottom-posted replies keep what follows the quote."""
    lines = text.replace("\r\n", "\n").split("\n")[:MAX_LINES]
    split = find_split(lines)
    if split is not None:
        top = clean_tail(cut_signature(lines[: split[0]]))
        if top:
            return "\n".join(top).strip()
        below = without_quote(lines[split[0] + split[1] :])
        if below:
            return "\n".join(clean_tail(cut_signature(below))).strip()
        return ""
    lines = clean_tail(cut_signature(lines))
    leading = without_quote(lines) if lines and lines[0].lstrip().startswith(">") else lines
    return "\n".join(leading).strip()


def first_split(text: str, *, forwards: bool = False) -> str:
    """ "forward" or "reply" for the first quote marker in ``text``, "" when there is none."""
    lines = text.split("\n")[:MAX_LINES]
    split = find_split(lines, forwards=forwards)
    return split[2] if split else ""


def find_split(lines: list[str], *, forwards: bool = False) -> tuple[int, int, str] | None:
    """(line index, lines in the marker, kind) of the first quote marker, or None."""
    found: list[tuple[int, int, str]] = []
    first = next(line_markers(lines, forwards=forwards), None)
    if first is not None:
        found.append(first)
    library = mailparser_split(lines)
    if library is not None:
        found.append((library, 1, "reply"))
    return min(found) if found else None


def line_markers(lines: list[str], *, forwards: bool) -> Iterator[tuple[int, int, str]]:
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith(">"):
            continue
        if forwards and FORWARD_MARKERS.fullmatch(line):
            yield index, 1, "forward"
            continue
        if ORIGINAL_MESSAGE.fullmatch(line):
            yield index, 1, "reply"
            continue
        if HEADER_FROM.match(line) and any(
            HEADER_NEXT.match(following.strip()) for following in lines[index + 1 : index + 4]
        ):
            yield index, 1, "reply"
            continue
        if ANY_LANGUAGE_ATTRIBUTION.fullmatch(line[:400]):
            yield index, 1, "reply"
            continue
        for span in range(1, ATTRIBUTION_SPAN + 1):
            if index + span > len(lines):
                break
            if span > 1 and lines[index + span - 2].rstrip().endswith((".", "!", "?")):
                break  # a wrapped attribution does not end a line with a full stop
            joined = " ".join(part.strip() for part in lines[index : index + span])
            if len(joined) <= 400 and any(pattern.fullmatch(joined) for pattern in ATTRIBUTIONS):
                yield index, span, "reply"
                break


def mailparser_split(lines: list[str]) -> int | None:
    """The first line where mail-parser-reply's header patterns (more languages) match."""
    # Lines are cut short: the library's patterns backtrack quadratically on long lines.
    stripped = "\n".join(line.strip()[:300] for line in lines)
    try:
        matches = _header_matches(stripped)
    except RecursionError:
        return None
    for match_start, match_end in matches:
        start = match_start
        while start < len(stripped) and stripped[start] == "\n":
            start += 1
        index = stripped.count("\n", 0, start)
        matched = stripped[start:match_end]
        if "\n" in matched.strip() and matched.split("\n", 1)[0].endswith((".", "!", "?")):
            continue  # a sentence, then "... wrote:" on the next line, is not an attribution
        if index < len(lines) and not lines[index].strip().startswith(">"):
            return index
    return None


# A reply is searched twice (for a forward marker, then for its split), and the library's
# patterns are the costliest part of reading a mail.
@functools.lru_cache(maxsize=4)
def _header_matches(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(match.span() for match in MAILPARSER_HEADERS.finditer(text))


def cut_signature(lines: list[str]) -> list[str]:
    """Drop the signature: from a "-- " line (RFC 3676) or a "Sent from my phone" line on."""
    seen_text = False
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r")
        if seen_text and line in ("-- ", "--"):
            return lines[:index]
        if seen_text and SENT_FROM_DEVICE.match(line.strip()):
            return lines[:index]
        if line.strip():
            seen_text = True
    return lines


def clean_tail(lines: list[str]) -> list[str]:
    """Trailing blank, separator and quoted lines go: they belong to the quote."""
    end = len(lines)
    while end and (
        not lines[end - 1].strip()
        or lines[end - 1].lstrip().startswith(">")
        or SEPARATOR_LINE.match(lines[end - 1])
    ):
        end -= 1
    return lines[:end]


def without_quote(lines: list[str]) -> list[str]:
    """The lines after a leading quoted block (a bottom-posted reply's own text)."""
    index = 0
    while index < len(lines) and (
        not lines[index].strip() or lines[index].lstrip().startswith(">")
    ):
        index += 1
    return lines[index:]
