"""The knowledge-base editor, under /knowledge/."""

from django.urls import path

from knowledge_base.editor import views

app_name = "kb_editor"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("preview/", views.preview, name="preview"),
    path("images/", views.image_upload, name="images"),
    path("<int:article_id>/", views.article_edit, name="edit"),
    path("<int:article_id>/status/", views.article_status, name="status"),
    path("<int:article_id>/history/", views.article_history, name="history"),
    path(
        "<int:article_id>/translation/delete/",
        views.translation_delete,
        name="translation-delete",
    ),
    path("revisions/<int:revision_id>/restore/", views.revision_restore, name="restore"),
]
