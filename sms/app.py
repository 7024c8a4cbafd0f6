"""The SMS channel as a Starlette sub-app with its own error convention.

Africa's Talking only needs a ``2xx`` to know a callback arrived: answers are
``text/plain`` ``OK``; a callback that is not of the documented form gets
``400`` with a plain one-line reason, a refused one ``403`` (:mod:`gateway.guard`),
and ``503`` means "not stored, send it again". Replies to citizens never go in
the HTTP answer: they are MT messages sent by jobs.
"""

from __future__ import annotations

from starlette.applications import Starlette

from core.settings import Settings
from gateway.forms import MalformedCallback, answer_malformed
from sms.routes import routes

#: The path prefix the composition root dispatches to this app.
PREFIX = "/sms"


def create_app(settings: Settings) -> Starlette:
    """The SMS sub-app: ``POST /sms[/<token>]/inbound`` and ``/sms[/<token>]/delivery-reports``."""
    return Starlette(
        routes=routes(settings), exception_handlers={MalformedCallback: answer_malformed}
    )
