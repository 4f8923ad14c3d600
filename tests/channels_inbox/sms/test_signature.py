"""Our X-Twilio-Signature check against Twilio's published test vectors (providers.md
section 8, T1 to T3, from twilio-python's own tests): the ``twilio`` package is not a
dependency, so these vectors are what ties our check to Twilio's."""

from __future__ import annotations

import pytest

from channels_inbox.sms.signature import (
    compute_signature,
    is_valid_form_signature,
    is_valid_json_signature,
)

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Caller": ["+14158675309"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
}
T1 = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
T1_WITH_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (URL, T1),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", T1_WITH_443),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_t1_signatures_are_computed_as_twilio_computes_them(url: str, signature: str) -> None:
    assert compute_signature(url, PARAMS, TOKEN) == signature


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        pytest.param(URL, T1, id="as signed"),
        pytest.param(URL, T1_WITH_443, id="signed with the default port"),
        pytest.param("https://mycompany.com:1234/myapp.php?foo=1&bar=2", T1, id="port stripped"),
        pytest.param(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2", T1, id="default port stripped"
        ),
    ],
)
def test_a_signature_holds_with_or_without_the_port(url: str, signature: str) -> None:
    assert is_valid_form_signature(url, PARAMS, signature, TOKEN)


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        pytest.param(URL, {**PARAMS, "Digits": ["1235"]}, T1, TOKEN, id="changed parameter"),
        pytest.param(URL, {**PARAMS, "Extra": [""]}, T1, TOKEN, id="added empty parameter"),
        pytest.param(URL, PARAMS, T1, "12346", id="other token"),
        pytest.param(URL.replace("foo=1", "foo=2"), PARAMS, T1, TOKEN, id="other query"),
        pytest.param(URL.replace("https", "http"), PARAMS, T1, TOKEN, id="other scheme"),
        pytest.param(URL, PARAMS, "", TOKEN, id="no signature"),
        pytest.param(URL, PARAMS, T1, "", id="no token"),
        pytest.param(URL, PARAMS, T1.lower(), TOKEN, id="other case"),
        pytest.param(URL, PARAMS, "sïgnature", TOKEN, id="not ASCII"),
    ],
)
def test_anything_else_fails(
    url: str, params: dict[str, list[str]], signature: str, token: str
) -> None:
    assert not is_valid_form_signature(url, params, signature, token)


def test_t2_repeated_keys_sign_their_distinct_values_in_order() -> None:
    params = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234", "1234"]}

    assert compute_signature(URL, params, TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert is_valid_form_signature(URL, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", TOKEN)


def test_t3_a_json_body_is_signed_through_its_digest_in_the_url() -> None:
    body = b'{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url = f"{URL}&bodySHA256={digest}"

    assert is_valid_json_signature(url, body, "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)
    assert is_valid_json_signature(url, body, "uzN7O1319XdYoYMfTT2eUM1PJT0=", TOKEN)
    assert not is_valid_json_signature(url, body + b" ", "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)
    assert not is_valid_json_signature(URL, body, "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)
