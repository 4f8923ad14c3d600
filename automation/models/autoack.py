"""autoack models."""

__all__: list[str] = []
