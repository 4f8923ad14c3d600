"""Categories, sections, articles, translations, revisions and feedback."""

__all__: list[str] = []
