"""The USSD channel as a Starlette sub-app with its own error convention.

Africa's Talking reads ``text/plain``: a session step is answered ``CON …`` or
``END …`` (:mod:`ussd.routes`), and a callback that is not of the documented
form gets ``400`` with a plain one-line reason. Nothing here is shared with
the other channels; the composition root mounts it.
"""

from __future__ import annotations

from starlette.applications import Starlette

from core.settings import Settings
from gateway.forms import MalformedCallback, answer_malformed
from ussd.routes import routes

#: The path prefix the composition root dispatches to this app.
PREFIX = "/ussd"


def create_app(settings: Settings) -> Starlette:
    """The USSD sub-app: ``POST /ussd[/<token>]`` and ``POST /ussd[/<token>]/events``."""
    return Starlette(
        routes=routes(settings), exception_handlers={MalformedCallback: answer_malformed}
    )
