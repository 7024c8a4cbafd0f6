"""Reading and validating the form fields of Africa's Talking callbacks.

The gateway posts ``application/x-www-form-urlencoded`` bodies. Every field is
checked here before anything is stored or acted on: text fields must be text
of bounded length with no control characters (PostgreSQL cannot store NUL, and
no documented field carries one), whole numbers must fit PostgreSQL's
``integer``. Anything else is a :class:`MalformedCallback`, which the channel
answers with ``400`` and a plain reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.errors import InvalidInput

#: Any C0 control character or DEL (NUL included).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The same, except tab and line breaks (which a citizen's SMS text may hold).
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: PostgreSQL ``integer`` upper bound.
INT32_MAX = 2**31 - 1


class MalformedCallback(InvalidInput):
    """A callback field is missing or not of the documented form (answered with 400)."""


def field(form: Mapping[str, object], name: str, *, limit: int, lines: bool = False) -> str | None:
    """The text of field ``name`` (``None`` when absent).

    ``lines`` allows tabs and line breaks (free text such as an SMS body).

    Raises:
        MalformedCallback: the field is a file upload, longer than ``limit``
            characters, or holds a control character.
    """
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedCallback(f"field {name} must be text")
    if len(value) > limit:
        raise MalformedCallback(f"field {name} is longer than {limit} characters")
    if (CONTROL_BUT_LINES if lines else CONTROL).search(value):
        raise MalformedCallback(f"field {name} holds a control character")
    return value


def required(form: Mapping[str, object], name: str, *, limit: int, lines: bool = False) -> str:
    """Like :func:`field`, for a field that must be present.

    Raises:
        MalformedCallback: the field is missing, or as :func:`field`.
    """
    value = field(form, name, limit=limit, lines=lines)
    if value is None:
        raise MalformedCallback(f"missing field {name}")
    return value


def matching(value: str | None, name: str, pattern: re.Pattern[str]) -> str | None:
    """``value`` when it is ``None`` or matches ``pattern`` entirely.

    Raises:
        MalformedCallback: it does not match.
    """
    if value is not None and not pattern.fullmatch(value):
        raise MalformedCallback(f"malformed field {name}")
    return value


def whole_number(form: Mapping[str, object], name: str) -> int | None:
    """Field ``name`` as a whole number from 0 to 2**31-1 (``None`` when absent or empty).

    Raises:
        MalformedCallback: not a whole number, or out of that range.
    """
    value = field(form, name, limit=16)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit():
        raise MalformedCallback(f"field {name} must be a whole number")
    number = int(value)
    if number > INT32_MAX:
        raise MalformedCallback(f"field {name} is out of range")
    return number


async def answer_malformed(request: Request, exc: Exception) -> Response:
    """Exception handler: ``400`` with the plain-text reason of a :class:`MalformedCallback`."""
    return PlainTextResponse(f"{exc}\n", status_code=400)
