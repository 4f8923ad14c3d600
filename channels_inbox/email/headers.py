"""Reading header values: RFC 2047 encoded words, raw 8-bit headers, addresses, Message-IDs.

The standard library's header objects raise or give up on the broken headers real mail
carries (encoded words split in the middle of a character, inside quotes, in unknown
charsets), so values are decoded here from the raw text the parser keeps.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import quopri
import re
from email.message import Message

from .charsets import decode_bytes, repair_header_bytes

ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([qQbB])\?([^?\s]*)\?=")
FOLDING = re.compile(r"\r?\n(?=[ \t])")
LINE_BREAKS = re.compile(r"[\r\n]+")
ANGLE_ID = re.compile(r"<([^<>\s]*)>")
MAX_IDS = 100

# Nearly every address header is a plain list of `Name <local@domain>` or `local@domain`.
# The standard library's parser walks such a value a character at a time, and the pipeline
# reads several address headers of every mail; a value that fits this grammar entirely is
# split by the patterns below, with the same result (a property test checks it). Anything
# else (quotes, comments, groups, dots in a name, encoded words split by commas) goes to
# the library.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_SIMPLE_ADDRESS = re.compile(
    rf"[ \t\r\n]*(?:(?P<name>{_ATEXT}+(?:[ \t\r\n]+{_ATEXT}+)*)[ \t\r\n]*"
    rf"<(?P<angle>{_DOT_ATOM}@{_DOT_ATOM})>|(?P<bare>{_DOT_ATOM}@{_DOT_ATOM}))[ \t\r\n]*"
)


def raw_header(message: Message, name: str) -> str | None:
    """The first raw value of header ``name``, unfolded, or None when absent."""
    values = raw_headers(message, name)
    return values[0] if values else None


def raw_headers(message: Message, name: str) -> list[str]:
    wanted = name.lower()
    values: list[str] = []
    for key, value in message.raw_items():
        if str(key).strip().lower() == wanted:
            values.append(_unfold(value))
    return values


def raw_header_index(message: Message) -> dict[str, list[str]]:
    """Every raw value of every header, unfolded, in order, by lower-case name: one pass
    over the headers for a reader of many of them (``raw_headers`` makes one per name)."""
    index: dict[str, list[str]] = {}
    for key, value in message.raw_items():
        index.setdefault(str(key).strip().lower(), []).append(_unfold(value))
    return index


def _unfold(value: object) -> str:
    return LINE_BREAKS.sub("", FOLDING.sub("", str(value))).strip()


def header_text(message: Message, name: str) -> str:
    """The decoded text of header ``name`` ("" when absent)."""
    value = raw_header(message, name)
    return decode_words(value) if value else ""


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (and raw 8-bit bytes) in a header value.

    Whitespace between adjacent encoded words is dropped, and adjacent words in the same
    charset are decoded together, because broken mailers split multibyte characters across
    words. Encoded words are decoded wherever they are, quotes included, as mail clients do.
    """
    value = repair_header_bytes(value)
    if "=?" not in value:
        return value
    pieces: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent encoded words not yet decoded
    position = 0
    for match in ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending and between.isspace()):
            flush_words(pending, pieces)
            pieces.append(between)
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix: "utf-8*en"
        pending.append((charset.lower(), decode_word(match.group(2), match.group(3))))
        position = match.end()
    flush_words(pending, pieces)
    pieces.append(value[position:])
    return "".join(pieces)


def decode_word(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return text.encode("ascii", errors="replace")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", errors="replace"))


def flush_words(pending: list[tuple[str, bytes]], pieces: list[str]) -> None:
    while pending:
        charset = pending[0][0]
        data = b""
        while pending and pending[0][0] == charset:
            data += pending.pop(0)[1]
        pieces.append(decode_bytes(data, charset))


def single_line(value: str) -> str:
    """Control characters (a decoded "=0A" included) have no place in a one-line header."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


def parse_addresses(value: str | None) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, names decoded, addresses lower-cased."""
    if not value:
        return []
    value = repair_header_bytes(value)
    pairs = simple_addresses(value)
    if pairs is None:
        try:
            pairs = email.utils.getaddresses([value])
        except Exception:  # the address parser has raised on odd input; keep what is readable
            pairs = []
    result: list[tuple[str, str]] = []
    for name, address in pairs:
        address = decode_words(address).strip().strip("<>").strip().lower()
        name = single_line(decode_words(name)).strip('" ')
        if address and "@" not in address and not name:
            continue
        if address or name:
            result.append((name, single_line(address)))
    return result


def simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """What ``email.utils.getaddresses([value])`` gives, for a value made only of plain
    ``Name <local@domain>`` and ``local@domain`` items separated by commas; None for any
    other value."""
    pairs = []
    for item in value.split(","):
        match = _SIMPLE_ADDRESS.fullmatch(item)
        if match is None:
            return None
        name = match["name"]
        if name is None:
            pairs.append(("", match["bare"]))
        else:
            pairs.append((" ".join(name.split()), match["angle"]))
    return pairs


def normalize_message_id(value: str) -> str:
    """A Message-ID as stored for threading: no angle brackets, the domain lower-cased."""
    if not value:
        return ""
    value = value.strip()
    match = ANGLE_ID.search(value)
    text = match.group(1) if match else (value.split() or [""])[0]
    text = single_line(text).strip("<>")
    if "@" in text:
        local, _, domain = text.rpartition("@")
        text = f"{local}@{domain.lower()}"
    return text


def message_ids(value: str | None) -> tuple[str, ...]:
    """All Message-IDs in an In-Reply-To or References value, in order, without repeats.

    Long chains keep the first id (the thread's start) and the most recent ones.
    """
    if not value:
        return ()
    found = ANGLE_ID.findall(value)
    if not found:
        # Some clients drop the brackets; then the ids are separated by whitespace.
        found = [token for token in re.split(r"[\s,]+", value) if "@" in token]
    ids: list[str] = []
    seen: set[str] = set()
    for raw in found:
        normalized = normalize_message_id(raw)
        if normalized and normalized not in seen:
            seen.add(normalized)
            ids.append(normalized)
    if len(ids) > MAX_IDS:
        ids = ids[:1] + ids[-(MAX_IDS - 1) :]
    return tuple(ids)
