"""Routing and teams settings pages, and the agent's availability switch."""

from django.urls import URLPattern, URLResolver, path

from automation.routing import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("routing/", views.routing_list, name="routing"),
    path("routing/<int:team_id>/", views.routing_edit, name="routing-team"),
    path("teams/", views.team_list, name="teams"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/remove/",
        views.team_member_remove,
        name="team-member-remove",
    ),
    path("teams/agents/<int:user_id>/", views.agent_edit, name="agent"),
    path("availability/", views.availability, name="availability"),
]
