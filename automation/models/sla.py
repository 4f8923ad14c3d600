"""sla models."""

__all__: list[str] = []
