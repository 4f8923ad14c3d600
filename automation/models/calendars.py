"""calendars models."""

__all__: list[str] = []
