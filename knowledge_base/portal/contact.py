"""The contact form (/help/contact/), its suggestions while the customer types, and the
redirect that records a suggestion being opened; and the agents' article search for the
ticket composer's "Insert article" control."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from customers.models import Customer
from knowledge_base import links
from knowledge_base.portal import services
from knowledge_base.portal.forms import ContactForm
from knowledge_base.search import search_articles, suggest_articles
from tickets.models import Ticket

TOO_MANY_REQUESTS = 429
SERVICE_UNAVAILABLE = 503
MAX_QUERY_LENGTH = 200
SUGGESTIONS_SHOWN = 5
COMPOSER_RESULTS = 8


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def request_locale(request: HttpRequest) -> str:
    return links.normalize_locale(request.GET.get("lang") or request.POST.get("lang"))


def _locale_paths(name: str) -> dict[str, str]:
    base = reverse(name)
    default = links.default_locale()
    return {
        code: base if code == default else f"{base}?lang={code}"
        for code in links.supported_locales()
    }


def _contact_page(
    request: HttpRequest, form: ContactForm, locale: str, *, status: int = 200, refusal: str = ""
) -> HttpResponse:
    return render(
        request,
        "help/contact.html",
        {
            "form": form,
            # A form sent back keeps its funnel (and its render time); else a new one.
            "token": _kept_token(form) or services.make_form_token(),
            "refusal": refusal,
            "help_locale": locale,
            "locale_paths": _locale_paths("help:contact"),
            "canonical_url": links.absolute(reverse("help:contact")),
            "suggestions_url": reverse("help:contact-suggestions"),
        },
        status=status,
    )


def _kept_token(form: ContactForm) -> str:
    value = str(form.data.get("token", "")) if form.is_bound else ""
    return value if value and services.read_form_token(value) is not None else ""


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    locale = request_locale(request)
    if request.method == "GET":
        return _contact_page(request, ContactForm(), locale)
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _contact_page(request, form, locale, status=400)
    data = form.cleaned_data
    if data["website"]:
        # A person never sees the field; answer like any refusal and keep nothing.
        return _contact_page(
            request,
            form,
            locale,
            status=400,
            refusal="We could not send your message. Please try again.",
        )
    try:
        token = services.check_submission_timing(data["token"])
    except services.ContactRefused as refusal:
        return _contact_page(request, form, locale, status=400, refusal=str(refusal))
    if not services.allowed(
        (services.CONTACT_PER_IP, client_address(request)),
        (services.CONTACT_PER_EMAIL, data["email"].lower()),
    ):
        return _contact_page(
            request,
            form,
            locale,
            status=TOO_MANY_REQUESTS,
            refusal="You have sent us several messages in a short time. "
            "Please wait a while before sending another one.",
        )
    account = services.contact_channel_account()
    if account is None:
        return _contact_page(
            request,
            form,
            locale,
            status=SERVICE_UNAVAILABLE,
            refusal="The contact form is not available right now. Please email us instead.",
        )
    ticket = services.submit_contact_request(
        services.ContactRequest(
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            message=data["message"],
            order_number=data["order_number"],
            locale=locale,
        ),
        token=token,
        account=account,
    )
    # Rendered, not redirected: a reload posts the same token again, which the service
    # answers with the same ticket.
    return render(
        request,
        "help/contact_sent.html",
        {
            "ticket": ticket,
            "email": data["email"],
            "help_locale": locale,
            "locale_paths": _locale_paths("help:contact"),
        },
    )


@require_GET
def contact_suggestions(request: HttpRequest) -> HttpResponse:
    """The articles matching what the customer typed, as the fragment the page shows; each
    one shown is counted in the form's funnel."""
    locale = request_locale(request)
    if not services.allowed((services.SUGGESTIONS_PER_IP, client_address(request))):
        return HttpResponse("", status=TOO_MANY_REQUESTS)
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    token = services.read_form_token(request.GET.get("t", ""))
    hits = suggest_articles(query, locale, limit=SUGGESTIONS_SHOWN) if len(query) >= 3 else []
    if token is not None and hits:
        services.record_shown(token.funnel, locale, [hit.article_id for hit in hits])
    open_base = reverse("help:contact-open", args=[0]).rsplit("0/", 1)[0]
    return render(
        request,
        "help/contact_suggestions.html",
        {
            "hits": hits,
            "query": query,
            "token": request.GET.get("t", "") if token is not None else "",
            "open_base": open_base,
            "help_locale": locale,
        },
    )


@require_GET
def contact_open(request: HttpRequest, article_id: int) -> HttpResponse:
    """Count a suggestion as opened in its funnel, then go to the article (only ever to one
    of our own published articles, never to an address from the request)."""
    article = services.published_article(article_id)
    if article is None:
        return HttpResponseRedirect(reverse("help:contact"))
    locale = request_locale(request)
    token = services.read_form_token(request.GET.get("t", ""))
    if token is not None:
        services.record_opened(token.funnel, locale, article.pk)
    return HttpResponseRedirect(links.article_url(article, locale))


# --- The ticket composer's article search (agents) ----------------------------------------


def customer_locale(customer: Customer | None) -> str:
    """The help center locale closest to the customer's: ``de-AT`` → ``de``; the default one
    when the customer has none we publish in."""
    wanted = (customer.locale if customer is not None else "").strip()
    supported = links.supported_locales()
    for candidate in (wanted, wanted.split("-")[0].split("_")[0].lower()):
        if candidate in supported:
            return candidate
    return links.default_locale()


@require_GET
def composer_articles(request: HttpRequest) -> HttpResponse:
    """Published articles matching ``q``, with links in the ticket's customer's locale
    (falling back to the default locale's page for an article not translated yet). Signed-in
    agents only."""
    user: Any = request.user
    if not (user.is_authenticated and user.is_active):
        return JsonResponse({"error": "Sign in to search the knowledge base."}, status=403)
    ticket = None
    number = request.GET.get("ticket", "")
    if number.isdigit():
        ticket = Ticket.objects.select_related("customer").filter(number=int(number)).first()
    locale = customer_locale(ticket.customer if ticket is not None else None)
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    hits = search_articles(query, locale, limit=COMPOSER_RESULTS) if query else []
    return JsonResponse(
        {
            "locale": locale,
            "results": [
                {
                    "id": hit.article_id,
                    "title": hit.title,
                    "locale": hit.locale,
                    "url": links.absolute(
                        links.article_path(hit.category_slug, hit.article_slug, hit.locale)
                    ),
                }
                for hit in hits
            ],
        }
    )
