"""Secret: masked in every text form, refused by pickle, compared in constant time."""

from __future__ import annotations

import copy
import hmac
import logging
import operator
import pickle

import pytest

from naftiko_runtime.binds import MASK, Secret

VALUE = "Token abc123"


def test_text_forms_are_masked() -> None:
    secret = Secret(VALUE)
    assert repr(secret) == MASK == "****"
    assert str(secret) == MASK
    assert f"{secret}" == MASK
    assert f"{secret!r}" == MASK
    assert format(secret) == MASK
    assert "%s %r" % (secret, secret) == "**** ****"  # noqa: UP031 - the %-style path is the point
    assert "{}".format(secret) == MASK  # noqa: UP032


def test_format_spec_applies_to_the_mask_not_the_value() -> None:
    assert f"[{Secret(VALUE):>8}]" == "[    ****]"
    assert f"[{Secret(VALUE):<6}]" == "[****  ]"


def test_containers_and_exceptions_show_the_mask() -> None:
    secret = Secret(VALUE)
    assert VALUE not in repr({"auth": secret})
    assert VALUE not in repr([secret])
    assert VALUE not in str(ValueError("bad", secret))


def test_reveal_is_the_way_to_the_value() -> None:
    assert Secret(VALUE).reveal() == VALUE
    assert Secret(Secret(VALUE)).reveal() == VALUE  # re-wrapping is harmless


def test_only_strings_are_accepted_and_the_error_does_not_echo_the_value() -> None:
    with pytest.raises(TypeError) as info:
        Secret(12345678)  # type: ignore[arg-type]
    assert "12345678" not in str(info.value)


def test_pickling_is_refused() -> None:
    secret = Secret(VALUE)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(secret, protocol=protocol)
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [secret]})


def test_no_serialisable_state() -> None:
    with pytest.raises(TypeError):
        Secret(VALUE).__getstate__()


def test_copy_and_deepcopy_return_the_same_immutable_object() -> None:
    secret = Secret(VALUE)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"a": secret})["a"] is secret


def test_immutable() -> None:
    secret = Secret(VALUE)
    with pytest.raises(AttributeError):
        secret.value = "x"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del secret._Secret__value  # type: ignore[attr-defined]
    assert secret.reveal() == VALUE


def test_equality_and_hash() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret("Token other")
    assert hash(Secret(VALUE)) == hash(Secret(VALUE))
    assert len({Secret(VALUE), Secret(VALUE), Secret("other")}) == 2
    assert {Secret(VALUE): 1}[Secret(VALUE)] == 1
    # A plain string is not equal (that would force hash(Secret) to be the hash of the raw value).
    assert Secret(VALUE) != VALUE
    assert operator.ne(VALUE, Secret(VALUE))  # str on the left: NotImplemented both ways


def test_equality_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE).matches(VALUE)
    assert Secret(VALUE).matches(VALUE.encode())
    assert not Secret(VALUE).matches("Token abc124")
    assert len(calls) == 4


def test_matches_handles_non_ascii_and_wrong_types() -> None:
    secret = Secret("clé-secrète")
    assert secret.matches("clé-secrète")
    assert not secret.matches("cle-secrete")
    assert not secret.matches(None)  # type: ignore[arg-type]


def test_logging_a_secret_prints_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test.secret").info("auth=%s repr=%r", Secret(VALUE), Secret(VALUE))
    assert VALUE not in caplog.text
    assert "auth=**** repr=****" in caplog.text
