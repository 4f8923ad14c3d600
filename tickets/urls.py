from django.urls import include, path

from tickets import views
from tickets.workspace import customer_views, message_views
from tickets.workspace import views as workspace

app_name = "tickets"

urlpatterns = [
    path(
        "attachments/<int:attachment_id>/<path:name>",
        views.download_attachment,
        name="attachment",
    ),
    # The agent workspace: pages, and the fragments its live updates fetch.
    path("inbox/", workspace.inbox_page, name="inbox"),
    path("inbox/list/", workspace.inbox_list, name="inbox-list"),
    path("inbox/counts/", workspace.inbox_counts, name="inbox-counts"),
    path("inbox/rows/<int:ticket_id>/", workspace.inbox_row, name="inbox-row"),
    path("inbox/bulk/", workspace.inbox_bulk, name="inbox-bulk"),
    path("inbox/mentions/", workspace.mentions_page, name="mentions"),
    path("inbox/views/", workspace.saved_view_create, name="saved-view-create"),
    path(
        "inbox/views/<int:view_id>/delete/", workspace.saved_view_delete, name="saved-view-delete"
    ),
    path("customers/<int:customer_id>/", customer_views.customer_page, name="customer"),
    path(
        "customers/<int:customer_id>/merge/", customer_views.customer_merge, name="customer-merge"
    ),
    path(
        "customers/merges/<int:merge_id>/undo/",
        customer_views.customer_unmerge,
        name="customer-unmerge",
    ),
    path("tickets/<int:number>/", workspace.ticket_page, name="ticket"),
    path("tickets/<int:number>/live/", workspace.ticket_live, name="ticket-live"),
    path("tickets/<int:number>/compose/", workspace.ticket_compose, name="ticket-compose"),
    path("tickets/<int:number>/macros/", include("automation.macros.workspace_urls")),
    path(
        "tickets/<int:number>/messages/<int:message_id>/retry/",
        message_views.message_retry,
        name="message-retry",
    ),
    path(
        "tickets/<int:number>/messages/<int:message_id>/original.eml",
        message_views.message_original,
        name="message-original",
    ),
    path(
        "tickets/<int:number>/messages/<int:message_id>/split/",
        message_views.message_split,
        name="message-split",
    ),
    path(
        "tickets/<int:number>/orders/<int:order_id>/",
        message_views.ticket_order,
        name="ticket-order",
    ),
    *(
        path(
            f"tickets/<int:number>/{field}/",
            workspace.ticket_edit,
            {"field": field},
            name=f"ticket-{field}",
        )
        for field in workspace.EDIT_FORMS
    ),
]
