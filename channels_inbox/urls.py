"""Public endpoints the channels' providers post to (no session, no CSRF: each checks its
provider's signature or secret)."""

from django.urls import path

from channels_inbox.email import webhooks

app_name = "channels_inbox"

urlpatterns = [
    path(
        "webhooks/email/<slug:slug>/mailgun/",
        webhooks.mailgun_inbound,
        name="email_webhook_mailgun",
    ),
    path(
        "webhooks/email/<slug:slug>/postmark/<str:secret>/",
        webhooks.postmark_inbound,
        name="email_webhook_postmark",
    ),
    path(
        "webhooks/email/<slug:slug>/sendgrid/<str:secret>/",
        webhooks.sendgrid_inbound,
        name="email_webhook_sendgrid",
    ),
]
