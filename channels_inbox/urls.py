"""Public endpoints the channels' providers post to (no session, no CSRF: each checks its
provider's signature or secret)."""

from django.urls import path

from channels_inbox.email import webhooks
from channels_inbox.sms import views as sms_views
from channels_inbox.telegram import views as telegram_views
from channels_inbox.whatsapp import views as whatsapp_views

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
    path("webhooks/whatsapp/<slug:slug>/", whatsapp_views.webhook, name="whatsapp_webhook"),
    path("webhooks/sms/<slug:slug>/", sms_views.sms_webhook, name="sms_webhook"),
    path(
        "webhooks/sms/<slug:slug>/status/",
        sms_views.sms_status_webhook,
        name="sms_status_webhook",
    ),
    path(
        "webhooks/telegram/<slug:slug>/",
        telegram_views.telegram_webhook,
        name="telegram_webhook",
    ),
]
