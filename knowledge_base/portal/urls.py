"""The contact form and the customer portal, under /help/."""

from django.urls import URLPattern, URLResolver, path

from knowledge_base.portal import contact, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("contact/", contact.contact, name="contact"),
    path("contact/suggestions/", contact.contact_suggestions, name="contact-suggestions"),
    path("contact/open/<int:article_id>/", contact.contact_open, name="contact-open"),
    path("portal/", views.portal, name="portal"),
    path("portal/sign-in/<str:token>/", views.link, name="portal-link"),
    path("portal/sign-out/", views.sign_out, name="portal-sign-out"),
    path("portal/requests/<int:number>/", views.ticket, name="portal-ticket"),
    path("portal/orders/", views.orders, name="portal-orders"),
    # The agents' article search for the ticket composer (signed-in agents only).
    path("contact/agent-articles/", contact.composer_articles, name="composer-articles"),
]
