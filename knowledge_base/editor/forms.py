"""Forms of the knowledge-base editor: they read and check the request; services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from knowledge_base.models import Article, Category, Section
from knowledge_base.models.articles import SUMMARY_MAX_LENGTH
from knowledge_base.services import MAX_TITLE_LENGTH

MAX_BODY_LENGTH = 100_000
MAX_QUERY_LENGTH = 200


def locale_choices() -> list[tuple[str, str]]:
    return [(locale, locale.upper()) for locale in settings.HELP_CENTER_LOCALES]


class ArticleListForm(forms.Form):
    q = forms.CharField(required=False, max_length=MAX_QUERY_LENGTH, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[("", "Active"), ("all", "All"), *Article.Status.choices]
    )
    locale = forms.ChoiceField(required=False, label="Locale")
    category = forms.ModelChoiceField(
        required=False, queryset=Category.objects.all(), to_field_name="slug", empty_label="All"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = [("", "Any"), *locale_choices()]  # type: ignore[attr-defined]
        self.fields["category"].label_from_instance = _category_label  # type: ignore[attr-defined]


def _category_label(category: Category) -> str:
    names = {translation.locale: translation.name for translation in category.translations.all()}
    return names.get(settings.HELP_CENTER_DEFAULT_LOCALE) or category.slug


class ArticleForm(forms.Form):
    """Where an article lives: category, section, address, order."""

    category = forms.ModelChoiceField(queryset=Category.objects.all(), empty_label=None)
    section = forms.ModelChoiceField(
        queryset=Section.objects.select_related("category"), required=False, empty_label="None"
    )
    slug = forms.SlugField(
        max_length=120,
        help_text="The article's address in the help center, the same in every locale.",
    )
    position = forms.IntegerField(min_value=0, max_value=10_000, initial=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = Category.objects.prefetch_related("translations")
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]
        self.fields["category"].label_from_instance = _category_label  # type: ignore[attr-defined]
        self.fields["section"].label_from_instance = (  # type: ignore[attr-defined]
            lambda section: f"{section.category.slug} / {section.slug}"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        category, section = cleaned.get("category"), cleaned.get("section")
        if category is not None and section is not None and section.category_id != category.pk:
            self.add_error("section", "This section belongs to another category.")
        return cleaned


class TranslationForm(forms.Form):
    """One locale's words."""

    title = forms.CharField(max_length=MAX_TITLE_LENGTH)
    summary = forms.CharField(
        max_length=SUMMARY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences: the line under the title and the search engines' "
        "description.",
    )
    body_markdown = forms.CharField(
        label="Body",
        max_length=MAX_BODY_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "true"}),
        help_text="Markdown: ## headings, - lists, **bold**, [links](https://…).",
    )


class NewArticleForm(ArticleForm, TranslationForm):
    locale = forms.ChoiceField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = locale_choices()  # type: ignore[attr-defined]
        self.fields["locale"].initial = settings.HELP_CENTER_DEFAULT_LOCALE


class PreviewForm(forms.Form):
    body_markdown = forms.CharField(max_length=MAX_BODY_LENGTH, required=False)


class ImageUploadForm(forms.Form):
    image = forms.FileField(
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        )
    )
    alt = forms.CharField(max_length=200, required=False, label="Description")


def error_text(form: forms.Form) -> str:
    """A form's errors as one line, for a message or a 400."""
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        name = label or field.replace("_", " ").capitalize()
        prefix = "" if field == "__all__" else f"{name}: "
        parts.append(prefix + " ".join(str(error) for error in errors))
    return "; ".join(parts)
