"""Turning the bytes of a mail body or header into text, whatever its charset claims.

Mail software mislabels charsets all the time, so the MIME label is trusted first and then
corrected for the known lies (providers.md §5.6). Decoding never fails: the last resort
replaces what cannot be read.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

# Supersets that decode everything the label promises and what the sender really wrote.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
# Labels whose 0x80-0x9F range is almost always Windows text in disguise.
LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819"}
# Python knows these names, but they are transformations, not charsets a mail can be in.
REFUSED_CODECS = {"idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined", "mbcs"}
UTF8_NAMES = {"utf-8", "utf_8"}
C1_BYTES = re.compile(rb"[\x80-\x9f]")
META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{1,40})""", re.I
)
# Above this share of non-ASCII letters, cp1252 is unlikely to be the real charset: Latin-script
# languages keep most of their letters in ASCII, while KOI8-R or ISO-8859-5 Cyrillic read as
# cp1252 comes out as nothing but accented letters.
MAX_LATIN_NON_ASCII_SHARE = 0.3


def lookup_charset(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when it is unknown or unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if not name or len(name) > 40:
        return None
    name = CHARSET_ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if info.name.replace("-", "_") in REFUSED_CODECS or not getattr(
        info, "_is_text_encoding", True
    ):
        return None
    return info.name


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` labelled with charset ``declared`` (None: no label). Never raises."""
    if not data:
        return ""
    label = (declared or "").strip().strip("\"'").lower()
    if label in LATIN1_LABELS:
        if data.isascii():
            return data.decode("ascii")
        if label in {"us-ascii", "ascii"}:
            # 8-bit data under an ASCII label: the label is simply wrong.
            return decode_undeclared(data)
        return data.decode("cp1252" if C1_BYTES.search(data) else "latin-1", errors="replace")
    codec = lookup_charset(label)
    if codec is None:
        return decode_undeclared(data)
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    if codec in UTF8_NAMES:
        # "utf-8" on Windows text is the common lie; cp1252 decodes it whole.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return data.decode(codec, errors="replace")


def decode_undeclared(data: bytes, *, html: bool = False) -> str:
    """Decode 8-bit data that carries no usable charset: UTF-8, then cp1252 when the result
    reads like a Latin-script language, then charset-normalizer's guess."""
    if data.isascii():
        return data.decode("ascii")
    if html:
        match = META_CHARSET.search(data[:4096])
        codec = lookup_charset(match.group(1).decode("ascii")) if match else None
        if codec:
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        latin = data.decode("cp1252")
    except UnicodeDecodeError:
        latin = ""
    if latin and looks_latin(latin):
        return latin
    try:
        best = charset_normalizer.from_bytes(data).best()
    except Exception:  # a guesser must never take the mail down with it
        best = None
    if best is not None:
        return str(best)
    return latin or data.decode("cp1252", errors="replace")


def looks_latin(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return True
    non_ascii = sum(1 for char in letters if not char.isascii())
    return non_ascii / len(letters) <= MAX_LATIN_NON_ASCII_SHARE


def repair_header_bytes(value: str) -> str:
    """Header text as the parser hands it over, with raw 8-bit bytes kept as surrogate escapes
    (RFC 6532 UTF-8 headers, or an old client's unlabelled Latin-1), turned into real text."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    data = value.encode("utf-8", errors="surrogateescape")
    return decode_undeclared(data)
