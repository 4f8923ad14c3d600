"""The public help center under /help/ (addresses designed in ``knowledge_base.links``)."""

from django.urls import URLPattern, URLResolver, include, path, register_converter

from knowledge_base import views
from knowledge_base.links import LOCALE_SHAPE, is_prefixed_locale

app_name = "help"


class LocaleConverter:
    """A supported locale other than the default, as the first segment of a path.

    Read per request, not at import: ``to_python`` refusing a value lets Django try the next
    pattern, so ``/help/shipping/`` is a category and ``/help/de/`` a locale's home.
    """

    regex = LOCALE_SHAPE.pattern

    def to_python(self, value: str) -> str:
        if not is_prefixed_locale(value):
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LocaleConverter, "help_locale")

urlpatterns: list[URLPattern | URLResolver] = [
    # First: fixed addresses (contact/, portal/) before the help center's slug patterns.
    path("", include("knowledge_base.portal.urls")),
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("sitemap-<int:part>.xml", views.sitemap_part, name="sitemap-part"),
    path("feedback/<int:article_id>/", views.feedback, name="feedback"),
    path("<help_locale:locale>/", views.home, name="home-locale"),
    path("<help_locale:locale>/<slug:category>/", views.category, name="category-locale"),
    path(
        "<help_locale:locale>/<slug:category>/<slug:article>/",
        views.article,
        name="article-locale",
    ),
    path("<slug:category>/", views.category, name="category"),
    path("<slug:category>/<slug:article>/", views.article, name="article"),
]
