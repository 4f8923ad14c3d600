"""routing models."""

__all__: list[str] = []
