from rest_framework.routers import SimpleRouter

from channels_inbox.api.views import ChannelAccountViewSet, InboundEventViewSet

router = SimpleRouter()
router.register("channel-accounts", ChannelAccountViewSet, basename="channel-account")
router.register("inbound-events", InboundEventViewSet, basename="inbound-event")

urlpatterns = router.urls
