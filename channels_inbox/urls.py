"""Public endpoints the channels' providers post to (no session, no CSRF: each checks its
provider's signature or secret), and the live chat widget's (each checks the page's origin
and the visitor's token)."""

from django.urls import include, path, re_path

from channels_inbox import workspace_views
from channels_inbox.chat import views as chat_views
from channels_inbox.email import webhooks
from channels_inbox.meta_messaging import views as meta_messaging_views
from channels_inbox.sms import views as sms_views
from channels_inbox.telegram import views as telegram_views
from channels_inbox.whatsapp import views as whatsapp_views

app_name = "channels_inbox"

urlpatterns = [
    path("widget.js", chat_views.widget_loader, name="chat_widget_loader"),
    re_path(
        r"^widget/chat\.(?P<version>[0-9a-f]{12})\.(?P<extension>js|css)$",
        chat_views.widget_asset,
        name="chat_widget_asset",
    ),
    path("chat/<slug:slug>/config/", chat_views.widget_config, name="chat_config"),
    path("chat/<slug:slug>/start/", chat_views.start_conversation, name="chat_start"),
    path("chat/<slug:slug>/upload/", chat_views.upload_file, name="chat_upload"),
    path("chat/<slug:slug>/files/<str:link>/", chat_views.conversation_file, name="chat_file"),
    # Providers' webhooks, behind one prefix: the busiest public URLs, and a request for
    # anything else looks at that prefix only.
    path(
        "webhooks/",
        include(
            [
                path(
                    "email/<slug:slug>/mailgun/",
                    webhooks.mailgun_inbound,
                    name="email_webhook_mailgun",
                ),
                path(
                    "email/<slug:slug>/postmark/<str:secret>/",
                    webhooks.postmark_inbound,
                    name="email_webhook_postmark",
                ),
                path(
                    "email/<slug:slug>/sendgrid/<str:secret>/",
                    webhooks.sendgrid_inbound,
                    name="email_webhook_sendgrid",
                ),
                path("whatsapp/<slug:slug>/", whatsapp_views.webhook, name="whatsapp_webhook"),
                path(
                    "messenger/<slug:slug>/",
                    meta_messaging_views.messenger_webhook,
                    name="messenger_webhook",
                ),
                path(
                    "instagram/<slug:slug>/",
                    meta_messaging_views.instagram_webhook,
                    name="instagram_webhook",
                ),
                path("sms/<slug:slug>/", sms_views.sms_webhook, name="sms_webhook"),
                path(
                    "sms/<slug:slug>/status/",
                    sms_views.sms_status_webhook,
                    name="sms_status_webhook",
                ),
                path(
                    "telegram/<slug:slug>/",
                    telegram_views.telegram_webhook,
                    name="telegram_webhook",
                ),
            ]
        ),
    ),
    # The agent workspace's template picker (a signed-in agent's form, with CSRF).
    path(
        "tickets/<int:number>/template-reply/",
        workspace_views.template_reply,
        name="ticket-template-reply",
    ),
]
