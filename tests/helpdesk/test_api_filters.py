"""The shared filter fields of ``helpdesk.api.filters``, outside any one list."""

from __future__ import annotations

import pytest
from django import forms

from helpdesk.api.filters import IdOrKeywordField
from helpdesk.models import User


def test_id_field_accepts_only_ids_its_queryset_holds(agent: User, inactive_agent: User) -> None:
    field = IdOrKeywordField(queryset=User.objects.filter(is_active=True), noun="agent")

    assert field.clean(str(agent.pk)) == agent.pk
    with pytest.raises(forms.ValidationError) as refused:
        field.clean(str(inactive_agent.pk))
    assert refused.value.messages == [f"No agent with id {inactive_agent.pk}."]


def test_id_field_sees_rows_added_after_its_first_check(agent: User) -> None:
    """The statement is composed once; the answer is read from the table every time."""
    field = IdOrKeywordField(queryset=User.objects.all(), noun="agent")
    assert field.clean(str(agent.pk)) == agent.pk

    newcomer = User.objects.create_user("dave", "dave@shop.test", "pw")

    assert field.clean(str(newcomer.pk)) == newcomer.pk


@pytest.mark.parametrize("value", ["0", "-1", "x1", "9223372036854775808", "1" * 40])
def test_id_field_refuses_what_cannot_name_a_row(agent: User, value: str) -> None:
    field = IdOrKeywordField(queryset=User.objects.all(), noun="agent", keywords=("me",))

    with pytest.raises(forms.ValidationError):
        field.clean(value)
