"""The shop's face on the help center: name, logo and brand colour from settings, and the
locale switcher's labels. Read per request, never at import, so tests and the settings
override them freely."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language_info


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str
    color: str

    @property
    def text_color(self) -> str:
        """Black or white, whichever reads better on the brand colour (WCAG luminance)."""
        return "#111111" if relative_luminance(self.color) > 0.179 else "#ffffff"


def brand() -> Brand:
    return Brand(
        name=settings.HELP_CENTER_NAME,
        logo_url=settings.HELP_CENTER_LOGO_URL,
        color=settings.HELP_CENTER_BRAND_COLOR,
    )


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour."""
    channels = []
    for start in (1, 3, 5):
        value = int(color[start : start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def locale_name(code: str) -> str:
    """The locale's name in its own language ("Deutsch"), or the code if Django has none."""
    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code


# --- The help center's own words, per locale ---------------------------------------------------
# Articles are translated by the shop; these few words around them are ours. A locale not
# listed here gets English.

UI_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content",
        "contact_us": "Contact us",
        "sign_in": "Sign in",
        "language": "Language",
        "nav_label": "Help center",
        "search_label": "Search the help center",
        "search_placeholder": "Search for answers",
        "search_button": "Search",
        "suggestions_label": "Suggested articles",
        "hero": "How can we help?",
        "browse": "Browse by topic",
        "article_one": "1 article",
        "article_many": "{count} articles",
        "popular": "Popular articles",
        "more_articles": "More articles",
        "breadcrumb": "Breadcrumb",
        "fallback_note": (
            "This article is not available in your language yet; here is the original version."
        ),
        "updated": "Updated",
        "helpful": "Was this article helpful?",
        "yes": "Yes",
        "no": "No",
        "add_comment": "Add a comment (optional)",
        "comment_label": "What could we improve?",
        "comment_hint": "Choose Yes or No above to send it. Please don't include personal details.",
        "thanks": "Thanks for your feedback!",
        "thanks_more": "It helps us improve our answers.",
        "not_sent": "Your feedback was not sent",
        "choose_yes_no": "Please choose Yes or No.",
        "back_to_article": "Back to the article",
        "related": "Related articles",
        "search_title": "Search",
        "results_for": "Results for “{query}”",
        "page_n": "page {page}",
        "no_results": "No articles match “{query}”. Try other words",
        "or_contact": "or contact us",
        "previous": "Previous",
        "next": "Next",
        "pages_label": "Search result pages",
        "rate_limited": "Too many searches in a short time. Please wait a minute and try again.",
        "no_articles": "No articles yet.",
        "suggestions_status": "{count} suggestions; choose with the up and down arrows.",
        "no_suggestions": "No suggestions.",
        "feedback_failed": "Your feedback could not be sent. Please try again.",
    },
    "de": {
        "skip": "Zum Inhalt springen",
        "contact_us": "Kontakt",
        "sign_in": "Anmelden",
        "language": "Sprache",
        "nav_label": "Hilfe-Center",
        "search_label": "Im Hilfe-Center suchen",
        "search_placeholder": "Antworten suchen",
        "search_button": "Suchen",
        "suggestions_label": "Vorgeschlagene Artikel",
        "hero": "Wie können wir helfen?",
        "browse": "Themen",
        "article_one": "1 Artikel",
        "article_many": "{count} Artikel",
        "popular": "Beliebte Artikel",
        "more_articles": "Weitere Artikel",
        "breadcrumb": "Brotkrumen",
        "fallback_note": (
            "Diesen Artikel gibt es noch nicht in Ihrer Sprache; hier ist die Originalfassung."
        ),
        "updated": "Aktualisiert am",
        "helpful": "War dieser Artikel hilfreich?",
        "yes": "Ja",
        "no": "Nein",
        "add_comment": "Kommentar hinzufügen (optional)",
        "comment_label": "Was können wir besser machen?",
        "comment_hint": (
            "Wählen Sie oben Ja oder Nein, um ihn zu senden. Bitte keine persönlichen Daten."
        ),
        "thanks": "Danke für Ihr Feedback!",
        "thanks_more": "Es hilft uns, unsere Antworten zu verbessern.",
        "not_sent": "Ihr Feedback wurde nicht gesendet",
        "choose_yes_no": "Bitte wählen Sie Ja oder Nein.",
        "back_to_article": "Zurück zum Artikel",
        "related": "Verwandte Artikel",
        "search_title": "Suche",
        "results_for": "Ergebnisse für „{query}“",
        "page_n": "Seite {page}",
        "no_results": "Keine Artikel zu „{query}“. Versuchen Sie andere Wörter",
        "or_contact": "oder kontaktieren Sie uns",
        "previous": "Zurück",
        "next": "Weiter",
        "pages_label": "Seiten der Suchergebnisse",
        "rate_limited": "Zu viele Suchen in kurzer Zeit. Bitte warten Sie eine Minute.",
        "no_articles": "Noch keine Artikel.",
        "suggestions_status": "{count} Vorschläge; mit den Pfeiltasten auswählen.",
        "no_suggestions": "Keine Vorschläge.",
        "feedback_failed": "Ihr Feedback konnte nicht gesendet werden. Bitte erneut versuchen.",
    },
    "fr": {
        "skip": "Aller au contenu",
        "contact_us": "Nous contacter",
        "sign_in": "Se connecter",
        "language": "Langue",
        "nav_label": "Centre d'aide",
        "search_label": "Rechercher dans le centre d'aide",
        "search_placeholder": "Rechercher des réponses",
        "search_button": "Rechercher",
        "suggestions_label": "Articles suggérés",
        "hero": "Comment pouvons-nous vous aider ?",
        "browse": "Parcourir par thème",
        "article_one": "1 article",
        "article_many": "{count} articles",
        "popular": "Articles populaires",
        "more_articles": "Autres articles",
        "breadcrumb": "Fil d'Ariane",
        "fallback_note": (
            "Cet article n'est pas encore disponible dans votre langue ; voici la version "
            "originale."
        ),
        "updated": "Mis à jour le",
        "helpful": "Cet article vous a-t-il aidé ?",
        "yes": "Oui",
        "no": "Non",
        "add_comment": "Ajouter un commentaire (facultatif)",
        "comment_label": "Que pouvons-nous améliorer ?",
        "comment_hint": (
            "Choisissez Oui ou Non ci-dessus pour l'envoyer. N'indiquez pas de données "
            "personnelles."
        ),
        "thanks": "Merci pour votre avis !",
        "thanks_more": "Il nous aide à améliorer nos réponses.",
        "not_sent": "Votre avis n'a pas été envoyé",
        "choose_yes_no": "Veuillez choisir Oui ou Non.",
        "back_to_article": "Retour à l'article",
        "related": "Articles associés",
        "search_title": "Recherche",
        "results_for": "Résultats pour « {query} »",
        "page_n": "page {page}",
        "no_results": "Aucun article ne correspond à « {query} ». Essayez d'autres mots",
        "or_contact": "ou contactez-nous",
        "previous": "Précédent",
        "next": "Suivant",
        "pages_label": "Pages de résultats",
        "rate_limited": "Trop de recherches en peu de temps. Veuillez patienter une minute.",
        "no_articles": "Aucun article pour l'instant.",
        "suggestions_status": "{count} suggestions ; choisissez avec les flèches.",
        "no_suggestions": "Aucune suggestion.",
        "feedback_failed": "Votre avis n'a pas pu être envoyé. Veuillez réessayer.",
    },
}


def ui_text(locale: str | None) -> dict[str, str]:
    """The help center's words in ``locale`` ("de-AT" uses "de"), else in English."""
    code = locale or ""
    return UI_TEXT.get(code) or UI_TEXT.get(code.split("-")[0]) or UI_TEXT["en"]
