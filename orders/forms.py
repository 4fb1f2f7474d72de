"""The storefront's forms: the catalogue search, the order form (a formset of lines), a move.

They check what a form can (a product that is for sale, a quantity in range, one line at
least); `orders.services` decides the rest (stock, the unpaid-units cap) and the views show
its refusals next to the line they concern.
"""

import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from .exceptions import InsufficientStock, OrderError, ProductUnavailable
from .models import Product
from .services import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_LINE_QUANTITY,
    MAX_ORDER_LINES,
    LineItem,
)

SEARCH_MAX_LENGTH = 100
BLANK_LINES = 3


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=SEARCH_MAX_LENGTH, required=False)


class ProductChoiceField(forms.ModelChoiceField[Product]):
    def label_from_instance(self, obj: Product) -> str:
        return f"{obj.name} ({obj.sku}), {obj.price}, {obj.stock} in stock"


class OrderLineForm(forms.Form):
    """One line: a product for sale and how many. A line left blank is no line."""

    product = ProductChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("name", "id"), required=False
    )
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        product, quantity = cleaned.get("product"), cleaned.get("quantity")
        if product is not None and quantity is None and "quantity" not in self.errors:
            self.add_error("quantity", "How many?")
        if product is None and quantity is not None and "product" not in self.errors:
            self.add_error("product", "Choose a product for this quantity.")
        return cleaned


class BaseOrderLineFormSet(forms.BaseFormSet[OrderLineForm]):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.line_items():
            raise ValidationError("Choose at least one product.", code="no_lines")

    def line_items(self) -> list[LineItem]:
        return [
            LineItem(
                product_id=form.cleaned_data["product"].pk, quantity=form.cleaned_data["quantity"]
            )
            for form in self.forms
            if form.cleaned_data.get("product") is not None
        ]

    def show_refusal(self, error: OrderError) -> str | None:
        """Put the domain's refusal next to the line it names; else return it for above them."""
        for form in self.forms:
            product = form.cleaned_data.get("product")
            if product is None:
                continue
            if isinstance(error, InsufficientStock) and product.sku == error.sku:
                form.add_error("quantity", error.message)
                return None
            if isinstance(error, ProductUnavailable) and product.pk in error.product_ids:
                form.add_error("product", f"{product.name} is no longer for sale.")
                return None
        return error.message


OrderLineFormSet = cast(
    type[BaseOrderLineFormSet],
    forms.formset_factory(
        OrderLineForm,
        formset=BaseOrderLineFormSet,
        extra=BLANK_LINES,
        max_num=MAX_ORDER_LINES,
        validate_max=True,
        absolute_max=MAX_ORDER_LINES,
    ),
)


class PlaceOrderForm(forms.Form):
    """The order form's key: made when the form is drawn, so a second submit replays the first."""

    idempotency_key = forms.CharField(
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH, widget=forms.HiddenInput
    )

    @classmethod
    def fresh(cls) -> "PlaceOrderForm":
        return cls(initial={"idempotency_key": uuid.uuid4().hex})


class TransitionForm(forms.Form):
    status = forms.CharField(max_length=16)
