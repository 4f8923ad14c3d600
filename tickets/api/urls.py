from rest_framework.routers import SimpleRouter

from tickets.api.views import TicketViewSet

# SimpleRouter, not DefaultRouter: several apps mount routers under /api/v1/, and each
# DefaultRouter would add its own root view at the same address.
router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")

urlpatterns = router.urls
