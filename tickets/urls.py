from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path(
        "attachments/<int:attachment_id>/<path:name>",
        views.download_attachment,
        name="attachment",
    ),
]
