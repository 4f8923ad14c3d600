"""Which files a visitor may send, decided by what the bytes are, never by the name or the
type the browser claims.

The allow-list is small on purpose: pictures (PNG, JPEG, GIF, WebP), PDF documents and plain
UTF-8 text, recognised by their signatures. Anything else (an executable, an HTML page, an
SVG with script in it, an office document with macros) is refused before it is stored.
"""

from __future__ import annotations

from django.conf import settings

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
TEXT_CONTROL_CHARACTERS = frozenset(range(32)) - {9, 10, 12, 13}
ALLOWED_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


def max_upload_bytes() -> int:
    """The smaller of the chat's own limit and the site's attachment limit."""
    return min(MAX_UPLOAD_BYTES, int(settings.MAX_ATTACHMENT_BYTES))


def sniff_content_type(content: bytes) -> str | None:
    """The allowed type ``content`` is, or None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content and _is_plain_text(content):
        return "text/plain"
    return None


def _is_plain_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # Control characters other than tabs, line breaks and form feeds mean a binary file
    # that happens to be valid UTF-8. Text that looks like HTML is still text: it is
    # stored as text/plain with a .txt name and served with nosniff.
    return not any(ord(character) in TEXT_CONTROL_CHARACTERS for character in text)


def safe_name(name: str, content_type: str) -> str:
    """The file's name with an ending that matches what it is, so nobody opening it later
    runs ``invoice.pdf.exe`` thinking it is a PDF."""
    stem = name.strip().replace("\\", "/").rsplit("/", 1)[-1][:150] or "file"
    extension = EXTENSIONS[content_type]
    if content_type == "image/jpeg" and stem.lower().endswith((".jpg", ".jpeg")):
        return stem
    return stem if stem.lower().endswith(extension) else stem + extension
