from rest_framework.routers import SimpleRouter

from helpdesk.api.views import AgentViewSet, TeamViewSet

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("agents", AgentViewSet, basename="agent")

urlpatterns = router.urls
