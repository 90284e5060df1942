"""providers.journal.json_document: the journal's JSON written in one pass, same document as before.

The journal used to copy every payload twice (``to_jsonable``, then ``storable``) before psycopg
dumped it; ``json_document`` dumps it directly and only falls back to the copies when the text
shows they would change something. Whatever the value, the stored document must be the one the
copies give, and the database must take it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.journal import json_document, storable
from providers.wire import to_jsonable

# Any character, lone surrogates and NUL included. Keys are text: every payload the journal
# holds was parsed from JSON or a form, or is one of our own answers.
_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | _text
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _the_copies(value: Any) -> Any:
    return storable(to_jsonable(value))


@settings(max_examples=400, deadline=None)
@given(_values)
def test_the_document_is_the_one_the_copies_give(value: Any) -> None:
    assert json.loads(json_document(value)) == _the_copies(value)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ({"amount": Decimal("10.50")}, {"amount": "10.50"}),  # exact text, not a float
        ({"a": "x\x00y"}, {"a": "x\ufffdy"}),  # NUL: PostgreSQL refuses \u0000 in JSONB
        ({"k\x00": 1}, {"k\ufffd": 1}),
        ({"a": ["\ud800"]}, {"a": ["?"]}),  # a lone surrogate: no encoding takes it
        ({"a": "back\\u0000slash"}, {"a": "back\\u0000slash"}),  # only looks like a NUL
        ({"a": "é 😀"}, {"a": "é 😀"}),
    ],
)
def test_text_no_database_can_hold_is_replaced_as_before(value: Any, stored: Any) -> None:
    assert json.loads(json_document(value)) == stored == _the_copies(value)


def test_a_value_json_cannot_write_still_fails() -> None:
    with pytest.raises(TypeError):
        json_document({"when": object()})


@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(_values)
def test_the_database_takes_every_document(value: Any) -> None:
    document = json_document(value)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT %s::jsonb::text", [document])
        else:
            cursor.execute("SELECT json(%s)", [document])
        (stored,) = cursor.fetchone()
    assert json.loads(stored) == _the_copies(value)
