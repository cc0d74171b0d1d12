"""redact() and SecretRedactingFilter: bind values never reach a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from naftiko_runtime.binds import BindValues, Redactor, Secret, SecretRedactingFilter, redact

TOKEN = "Token abc123"


def test_redact_replaces_every_occurrence() -> None:
    text = f"Authorization: {TOKEN}; again {TOKEN}"
    assert redact(text, [Secret(TOKEN)]) == "Authorization: ****; again ****"


def test_redact_masks_the_longest_secret_whole() -> None:
    secrets = [Secret("abcd"), Secret("abcdefgh")]
    assert redact("x abcdefgh y abcd", secrets) == "x **** y ****"


def test_redact_leaves_short_values_alone() -> None:
    assert redact("on and 1 and off", [Secret("on"), Secret("1"), Secret("off")]) == "on and 1 and off"
    assert redact("abcd", [Secret("abcd")]) == "****"


def test_redact_catches_url_and_json_spellings() -> None:
    secret = Secret('p@ss w/rd"x')
    assert redact("GET /x?key=p%40ss%20w%2Frd%22x", [secret]) == "GET /x?key=****"
    assert redact("GET /x?key=p%40ss+w%2Frd%22x", [secret]) == "GET /x?key=****"
    body = json.dumps({"password": 'p@ss w/rd"x'})
    assert redact(body, [secret]) == '{"password": "****"}'


def test_redact_with_regex_metacharacters() -> None:
    assert redact("v=a.b*c+(d)", [Secret("a.b*c+(d)")]) == "v=****"
    assert redact("v=aXb*c+(d)", [Secret("a.b*c+(d)")]) == "v=aXb*c+(d)"


def test_redact_without_secrets_is_identity() -> None:
    assert redact("nothing to hide", []) == "nothing to hide"
    assert not Redactor([])


# -- the logging filter on real loggers ------------------------------------------------------------


@pytest.fixture
def stream_logger() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    """A logger with a real StreamHandler; the filter is added by each test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("naftiko.test.redact")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield logger, stream, handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def bind_values() -> BindValues:
    return BindValues.from_mapping({"env": {"LABEL_STUDIO_API_KEY": TOKEN, "SHORT": "abc"}})


def test_filter_scrubs_message_and_args(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(SecretRedactingFilter(bind_values()))
    logger.info("sending Authorization: %s", TOKEN)
    logger.info(f"inline {TOKEN}")
    logger.info("dict args %(auth)s", {"auth": TOKEN})
    logger.debug("headers=%r", {"Authorization": TOKEN})
    output = stream.getvalue()
    assert "abc123" not in output
    assert "sending Authorization: ****" in output
    assert "inline ****" in output
    assert "dict args ****" in output
    assert "headers={'Authorization': '****'}" in output


def test_filter_catches_a_value_split_across_arguments(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(SecretRedactingFilter(bind_values()))
    logger.warning("Authorization: %s %s", "Token", "abc123")
    assert stream.getvalue().strip() == "WARNING naftiko.test.redact Authorization: ****"


def test_filter_leaves_records_without_secrets_untouched(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, _, handler = stream_logger
    handler.addFilter(SecretRedactingFilter(bind_values()))
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    keep.addFilter(SecretRedactingFilter(bind_values()))
    logger.addHandler(keep)
    try:
        logger.info("status %d for %s", 200, "/api/prompts")
    finally:
        logger.removeHandler(keep)
    assert seen[0].msg == "status %d for %s" and seen[0].args == (200, "/api/prompts")


def test_filter_scrubs_exception_text(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(SecretRedactingFilter(bind_values()))
    try:
        raise RuntimeError(f"upstream rejected header {TOKEN}")
    except RuntimeError:
        logger.exception("call failed")
    output = stream.getvalue()
    assert "abc123" not in output
    assert "RuntimeError: upstream rejected header ****" in output


def test_filter_scrubs_stack_info_and_extra_fields(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.setFormatter(logging.Formatter("%(message)s url=%(url)s"))
    handler.addFilter(SecretRedactingFilter(bind_values()))
    logger.info("request", extra={"url": f"http://h/x?auth={TOKEN}"})
    assert "url=http://h/x?auth=****" in stream.getvalue()
    assert "abc123" not in stream.getvalue()


def test_filter_accepts_plain_secrets_and_short_values_are_kept(
    stream_logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = stream_logger
    handler.addFilter(SecretRedactingFilter([Secret("hunter22"), Secret("abc")]))
    logger.info("pw=%s short=%s", "hunter22", "abc")
    assert stream.getvalue().strip().endswith("pw=**** short=abc")


def test_filter_on_a_handler_sees_records_from_child_loggers() -> None:
    """The reason to attach it to handlers: logger filters do not apply to propagated records."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretRedactingFilter(bind_values()))
    parent = logging.getLogger("naftiko.test.redact.parent")
    parent.setLevel(logging.INFO)
    parent.propagate = False
    parent.addHandler(handler)
    try:
        logging.getLogger("naftiko.test.redact.parent.consumes.http").info("header %s", TOKEN)
    finally:
        parent.removeHandler(handler)
        parent.propagate = True
    assert stream.getvalue().strip() == "header ****"


def test_filter_with_caplog_and_a_bad_format_string(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("naftiko.test.redact.caplog")
    caplog.handler.addFilter(SecretRedactingFilter(bind_values()))
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("token %s", TOKEN)
            record = logging.LogRecord(
                logger.name, logging.INFO, __file__, 1, f"bad %d {TOKEN}", ("x",), None
            )
            SecretRedactingFilter(bind_values()).filter(record)
            assert TOKEN not in str(record.msg)
    finally:
        caplog.handler.filters.clear()
    assert caplog.messages == ["token ****"]
