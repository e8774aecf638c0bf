"""A resent message's id and mark, as the channels read them (connectors/once.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connectors.once import already_handled, client_message_id, with_resent_mark


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("c1k2x3abc", "c1k2x3abc"),
        ("m-1", "m-1"),
        ("x" * 65, None),
        ("", None),
        ("<script>", None),
        ("a b", None),
        (12, None),
        (None, None),
    ],
)
def test_only_short_plain_ids_are_taken(value, expected):
    assert client_message_id({"message_id": value}) == expected


def test_the_mark_comes_from_the_body_with_an_id_only():
    assert with_resent_mark({"language": "ar"}, {"message_id": "m-1", "resent": True}) == {
        "language": "ar",
        "resent": True,
    }
    assert with_resent_mark(None, {"resent": True}) == {}
    assert with_resent_mark({"resent": True}, {"message_id": "m-1"}) == {}
    assert with_resent_mark({}, {"message_id": "m-1", "resent": "yes"}) == {}


def test_already_handled_looks_at_user_messages_only():
    events = [
        SimpleNamespace(type_name="bot", message_id="m-1"),
        SimpleNamespace(type_name="user", message_id="m-2"),
    ]
    assert already_handled(events, "m-2")
    assert not already_handled(events, "m-1")
    assert not already_handled([], "m-2")
