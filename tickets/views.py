from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request

from tickets.models import Attachment

# Types a browser may show inline; everything else downloads, so an HTML or SVG file a
# customer sent can never run in the help desk's origin.
INLINE_CONTENT_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}
)


@extend_schema(
    summary="Download an attachment",
    responses={200: OpenApiResponse(description="The file, with Content-Disposition.")},
)
@api_view(["GET"])
def download_attachment(request: Request, attachment_id: int, name: str) -> FileResponse:
    """Serve an attachment to a signed-in agent (session or token). Media files are never
    served publicly; the name in the URL is cosmetic, the id decides."""
    attachment = get_object_or_404(Attachment, pk=attachment_id)
    inline = attachment.content_type in INLINE_CONTENT_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
