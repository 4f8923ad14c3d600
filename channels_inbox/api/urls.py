from rest_framework.routers import SimpleRouter

from channels_inbox.api.views import (
    ChannelAccountViewSet,
    InboundEventViewSet,
    TicketSendingViewSet,
)

router = SimpleRouter()
router.register("channel-accounts", ChannelAccountViewSet, basename="channel-account")
router.register("inbound-events", InboundEventViewSet, basename="inbound-event")
# Next to the tickets API's own ticket URLs, which have no can-send/ or template-reply/.
router.register("tickets", TicketSendingViewSet, basename="ticket-sending")

urlpatterns = router.urls
