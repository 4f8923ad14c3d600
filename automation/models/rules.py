"""rules models."""

__all__: list[str] = []
