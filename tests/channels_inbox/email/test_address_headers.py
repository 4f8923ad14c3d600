"""Address headers: the quick split of plain address lists gives what the standard library's
parser gives, and anything it does not recognise is left to that parser; the token reader's
quick refusal of addresses that cannot hold a token loses none that can."""

from __future__ import annotations

import email.utils

from hypothesis import given
from hypothesis import strategies as st

from channels_inbox.email.headers import parse_addresses, simple_addresses
from channels_inbox.email.tokens import make_reply_address, read_reply_address

ATOM_CHARACTERS = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
atoms = st.text(alphabet=ATOM_CHARACTERS, min_size=1, max_size=8)
dot_atoms = st.lists(atoms, min_size=1, max_size=3).map(".".join)
spaces = st.sampled_from(["", " ", "  ", "\t", "\r\n "])
names = st.lists(atoms, min_size=1, max_size=3).flatmap(
    lambda words: spaces.map(lambda gap: (gap or " ").join(words))
)


@st.composite
def address_items(draw: st.DrawFn) -> str:
    address = f"{draw(dot_atoms)}@{draw(dot_atoms)}"
    lead, tail = draw(spaces), draw(spaces)
    if draw(st.booleans()):
        return f"{lead}{draw(names)}{draw(spaces)}<{address}>{tail}"
    return f"{lead}{address}{tail}"


plain_lists = st.lists(address_items(), min_size=1, max_size=4).map(",".join)
# Plain lists with one character of the grammar's edges dropped in somewhere.
ODD_CHARACTERS = ['"', "(", ")", ",", ";", ":", ".", "[", "]", "\\", "<", ">", "@", " ", "é"]


@given(plain_lists)
def test_plain_address_lists_split_as_the_library_splits_them(value: str) -> None:
    assert simple_addresses(value) == email.utils.getaddresses([value])


@given(plain_lists, st.sampled_from(ODD_CHARACTERS), st.integers(min_value=0))
def test_near_plain_values_are_split_alike_or_left_to_the_library(
    value: str, odd: str, where: int
) -> None:
    where %= len(value) + 1
    value = value[:where] + odd + value[where:]
    quick = simple_addresses(value)
    assert quick is None or quick == email.utils.getaddresses([value])


@given(st.text(max_size=80))
def test_any_text_is_split_alike_or_left_to_the_library(value: str) -> None:
    quick = simple_addresses(value)
    assert quick is None or quick == email.utils.getaddresses([value])


def test_the_usual_values_take_the_quick_way_and_the_rest_the_library() -> None:
    assert simple_addresses("Ana Souza <ana@shop.test>, bo@shop.test") == [
        ("Ana Souza", "ana@shop.test"),
        ("", "bo@shop.test"),
    ]
    for unusual in ['"Souza, Ana" <ana@shop.test>', "J. Smith <j@shop.test>", "ana@shop.test,"]:
        assert simple_addresses(unusual) is None
    # Both ways end in the same pairs, names decoded and addresses lower-cased.
    encoded = "=?utf-8?q?Ana_S=C3=A1?= <Ana@Shop.TEST>"
    assert parse_addresses(encoded) == [("Ana Sá", "ana@shop.test")]
    assert parse_addresses('"Sá, Ana" <Ana@Shop.TEST>') == [("Sá, Ana", "ana@shop.test")]


def test_reply_tokens_are_read_in_every_form_of_the_address_and_only_there() -> None:
    token = make_reply_address("support@shop.test", 1234)

    for written in [
        token,
        token.upper(),
        f"Shop Support <{token}>",
        f'"Support, Shop" <{token}>',
        f"<{token}>",
    ]:
        assert read_reply_address(written, "support@shop.test") == 1234, written
    assert read_reply_address(token, "sales@shop.test") is None
    assert read_reply_address("Ana <ana@shop.test>", "support@shop.test") is None
    assert read_reply_address(token.replace("+t", "+x"), "support@shop.test") is None
