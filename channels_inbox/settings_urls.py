"""Channel accounts settings pages, included under /settings/ (namespace ``settings``)."""

from django.urls import URLPattern, URLResolver, path

from channels_inbox import settings_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("channels/", views.channel_list, name="channels"),
    path("channels/<int:account_id>/", views.channel_edit, name="channel"),
    path("channels/<int:account_id>/active/", views.channel_active, name="channel-active"),
    path(
        "channels/<int:account_id>/templates/",
        views.template_create,
        name="channel-template-create",
    ),
    path(
        "channels/<int:account_id>/templates/<int:template_id>/delete/",
        views.template_delete,
        name="channel-template-delete",
    ),
]
