from rest_framework.routers import SimpleRouter

from customers.api.views import CustomerMergeViewSet, CustomerViewSet, OrderViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("customer-merges", CustomerMergeViewSet, basename="customer-merge")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = router.urls
