"""Customers, their handles and merges, and orders (``/api/v1/customers/``,
``/api/v1/customer-merges/``, ``/api/v1/orders/``).

Every agent works with customers: reads them, creates and edits them, adds handles, merges
duplicates and undoes merges. Orders come from the stores; agents read them and only admins
enter one by hand.

Status codes: bad input is a 400 naming the field; a handle that already belongs to another
customer, a merge of a customer already merged and an undo of an undone merge are a 409 (the
input is well formed; the data says no).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from customers.api.filters import CustomerFilter, CustomerMergeFilter, OrderFilter
from customers.api.serializers import (
    CustomerCreateSerializer,
    CustomerDetailSerializer,
    CustomerMergeSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    IdentitySerializer,
    IdentityWriteSerializer,
    MergeIntoSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    OrderWriteSerializer,
)
from customers.models import Customer, CustomerMerge, Identity, Order, OrderLine
from customers.queries import customer_for_detail, customers_for_list, merges_for_list
from customers.services import (
    CustomerError,
    OrderLineData,
    add_identity,
    merge_customers,
    register_customer,
    undo_customer_merge,
    update_customer,
    upsert_order,
)
from helpdesk.api.exceptions import ServiceErrorsMixin, validation_error_from_django
from helpdesk.api.views import ID_PATTERN, request_user
from helpdesk.permissions import IsAdminOrReadOnly


@extend_schema_view(
    create=extend_schema(
        request=CustomerCreateSerializer,
        responses={201: CustomerDetailSerializer},
        description="A handle that belongs to another customer is a 409; nothing is created.",
    ),
    partial_update=extend_schema(
        request=CustomerUpdateSerializer,
        responses={200: CustomerDetailSerializer},
        description="A new email becomes a handle too; a 409 when it is another customer's.",
    ),
)
class CustomerViewSet(
    ServiceErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers; the list leaves out customers merged into another (``include_merged=true``
    shows them), the detail adds notes, the latest tickets and the latest orders."""

    filterset_class = CustomerFilter
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "head", "options"]
    conflict_errors = (CustomerError,)

    def get_queryset(self) -> QuerySet[Customer]:
        if self.action == "list":
            return customers_for_list()
        if self.action == "retrieve":
            return customer_for_detail()
        return Customer.objects.all()

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The list filters (merged customers left out by default) must not hide a merged
        # customer from its own detail page or its merge and handle actions.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        classes: dict[str, type[BaseSerializer[Any]]] = {
            "list": CustomerSerializer,
            "create": CustomerCreateSerializer,
            "partial_update": CustomerUpdateSerializer,
            "identities": IdentityWriteSerializer,
            "merge": MergeIntoSerializer,
        }
        return classes.get(self.action or "", CustomerDetailSerializer)

    def _answer(self, customer: Customer, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = customer_for_detail().get(pk=customer.pk)
        return Response(CustomerDetailSerializer(fresh).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        handles = [(item["kind"], item["address"]) for item in fields.pop("identities", [])]
        customer = register_customer(identities=handles, **fields)
        return self._answer(customer, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        serializer = CustomerUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = update_customer(customer, **serializer.validated_data)
        return self._answer(customer)

    @extend_schema(
        request=IdentityWriteSerializer,
        responses={201: IdentitySerializer, 200: IdentitySerializer},
    )
    @action(detail=True, methods=["post"])
    def identities(self, request: Request, pk: str | None = None) -> Response:
        """Add a handle. 201 when it is new, 200 when the customer already has it, 400 when
        the address is not valid for its channel, 409 when it belongs to another customer or
        this customer is merged into another (the body's ``detail`` says which)."""
        customer = self.get_object()
        serializer = IdentityWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        had_it = Identity.objects.filter(
            customer=customer, kind=data["kind"], address=data["address"]
        ).exists()
        try:
            identity = add_identity(
                customer,
                kind=data["kind"],
                address=data["address"],
                display_name=data["display_name"],
            )
        except DjangoValidationError as error:
            # A bare message here is about the address, the one field the service checks.
            raise validation_error_from_django(error, field="address") from None
        return Response(
            IdentitySerializer(identity).data,
            status=status.HTTP_200_OK if had_it else status.HTTP_201_CREATED,
        )

    @extend_schema(request=MergeIntoSerializer, responses={201: CustomerMergeSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge this customer into ``into``: every handle, ticket and order moves there. The
        answer is the merge record; POST /customer-merges/{id}/undo/ gives everything back.
        400 when ``into`` is this customer or unknown; 409 when either one is already merged
        into another customer."""
        source = self.get_object()
        serializer = MergeIntoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target: Customer = serializer.validated_data["into"]
        if target.pk == source.pk:
            raise serializers.ValidationError(
                {"into": ["A customer cannot be merged into itself."]}
            )
        record = merge_customers(source, target, actor=request_user(request))
        record = merges_for_list().get(pk=record.pk)
        return Response(CustomerMergeSerializer(record).data, status=status.HTTP_201_CREATED)


class CustomerMergeViewSet(
    ServiceErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Customer merges, newest first, each with what moved and whether it was undone."""

    serializer_class = CustomerMergeSerializer
    filterset_class = CustomerMergeFilter
    lookup_value_regex = ID_PATTERN
    conflict_errors = (CustomerError,)

    def get_queryset(self) -> QuerySet[CustomerMerge]:
        return merges_for_list()

    @extend_schema(request=None, responses={200: CustomerMergeSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Give the source customer back every handle, ticket and order that moved and is
        still on the target. 409 when the merge was already undone."""
        record = undo_customer_merge(self.get_object(), actor=request_user(request))
        return Response(CustomerMergeSerializer(merges_for_list().get(pk=record.pk)).data)


@extend_schema_view(
    create=extend_schema(
        request=OrderWriteSerializer,
        responses={201: OrderDetailSerializer, 200: OrderDetailSerializer},
        description="Admins only. The same store and external_id again updates that order "
        "(200) instead of adding one (201).",
    ),
)
class OrderViewSet(
    ServiceErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Orders from the connected stores. Agents read; admins may enter one by hand."""

    permission_classes = [IsAdminOrReadOnly]
    filterset_class = OrderFilter
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Order]:
        orders = Order.objects.all()
        if self.action == "retrieve":
            lines = OrderLine.objects.order_by("id")
            orders = orders.prefetch_related(Prefetch("lines", queryset=lines))
        return orders

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        classes: dict[str, type[BaseSerializer[Any]]] = {
            "list": OrderSerializer,
            "create": OrderWriteSerializer,
        }
        return classes.get(self.action or "", OrderDetailSerializer)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OrderWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        lines = [OrderLineData(**line) for line in fields.pop("lines")]
        order, created = upsert_order(lines=lines, **fields)
        fresh = Order.objects.prefetch_related("lines").get(pk=order.pk)
        return Response(
            OrderDetailSerializer(fresh).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
