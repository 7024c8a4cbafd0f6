"""Only the gateway may call the citizen callbacks.

Africa's Talking signs nothing, so a callback that anyone can reach lets one
script exclude thousands of strangers. A callback is accepted only when every
configured check passes:

* **secret path token** (``NSER_CALLBACK_TOKEN``): the gateway is given
  ``https://…/ussd/<token>``; a wrong or missing token is refused. Compared in
  constant time.
* **source networks** (``NSER_CALLBACK_ALLOW``, CIDRs): the caller's address
  must be inside one. Behind a reverse proxy listed in ``NSER_TRUSTED_PROXIES``
  the address is taken from ``X-Forwarded-For`` (the right-most hop that is not
  itself a trusted proxy); from anyone else that header is ignored.
* **service code** (``NSER_USSD_SERVICE_CODES``): a USSD callback must name one
  of our codes.

Production refuses to start with neither a token nor an allowlist
(:class:`core.settings.Settings`); development accepts any caller and says so
in the log once. Refusals are ``403`` with nothing stored, and each is logged
with a running count (never with the citizen's number).
"""

from __future__ import annotations

import hmac
import ipaddress
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.settings import Network, Settings

log = logging.getLogger(__name__)

#: What the path token is replaced by wherever a path is logged.
REDACTED = "<token>"


@dataclass
class CallbackGuard:
    """The configured checks of one channel's callbacks (see module docstring)."""

    channel: str
    token: str | None
    networks: tuple[Network, ...]
    proxies: tuple[Network, ...]
    service_codes: frozenset[str]
    _refused: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def from_settings(cls, settings: Settings, *, channel: str) -> CallbackGuard:
        """The guard for ``channel`` (``ussd``, ``sms``); logs once when it checks nothing."""
        guard = cls(
            channel=channel,
            token=settings.path_token,
            networks=settings.callback_networks,
            proxies=settings.proxy_networks,
            service_codes=settings.service_codes,
        )
        if guard.token is None and not guard.networks:
            log.warning(
                "%s callbacks are open to any caller (development): set NSER_CALLBACK_TOKEN "
                "and/or NSER_CALLBACK_ALLOW before the gateway points here",
                channel,
            )
        return guard

    def client_address(self, request: Request) -> str | None:
        """The caller's IP address (see :func:`client_address`)."""
        return client_address(request, self.proxies)

    @staticmethod
    def _in(address: str, networks: tuple[Network, ...]) -> bool:
        return _within(address, networks)

    def refusal(
        self, request: Request, *, path_token: str | None, service_code: str | None = None
    ) -> str | None:
        """Why this callback is refused, or ``None`` when it may proceed.

        ``path_token`` is the token segment of the path (``None`` for the bare
        path); ``service_code`` the ``serviceCode`` field when the callback has one.
        A refusal is logged here with the running count.
        """
        reason = self._reason(request, path_token=path_token, service_code=service_code)
        if reason is not None:
            log.warning(
                "refused %s callback #%d from %s: %s",
                self.channel,
                next(self._refused),
                self.client_address(request) or "?",
                reason,
            )
        return reason

    def refused(self, request: Request, *, service_code: str | None = None) -> Response | None:
        """``403 forbidden`` when this callback is refused (see :meth:`refusal`), else ``None``.

        The path token is the route's ``{token}`` segment, if it has one. Every
        channel's callbacks answer a refusal the same way.
        """
        token = request.path_params.get("token")
        if self.refusal(request, path_token=token, service_code=service_code) is None:
            return None
        return PlainTextResponse("forbidden\n", status_code=403)

    def _reason(
        self, request: Request, *, path_token: str | None, service_code: str | None
    ) -> str | None:
        if self.token is not None and not (
            path_token is not None and hmac.compare_digest(path_token.encode(), self.token.encode())
        ):
            return "wrong or missing path token"
        if self.token is None and path_token is not None:
            return "no path token is configured"
        if self.networks:
            address = self.client_address(request)
            if address is None or not self._in(address, self.networks):
                return "source address not allowed"
        if (
            service_code is not None
            and self.service_codes
            and service_code not in self.service_codes
        ):
            return "not one of our service codes"
        return None

    def redact(self, path: str) -> str:
        """``path`` with the secret token replaced, for logs."""
        return redact_path(path, self.token)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, proxies: tuple[Network, ...]) -> str | None:
    """The caller's IP address, believing ``X-Forwarded-For`` only from trusted ``proxies``.

    Walks the forwarded chain from the right and returns the first hop that is
    not a trusted proxy (the right-most untrusted address, the only one a client
    cannot forge); ``None`` when the transport gives no peer.
    """
    peer = request.client.host if request.client else None
    if peer is None or not _within(peer, proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([peer, *filter(None, hops)]):
        if not _within(hop, proxies):
            return hop
    return peer


def redact_path(path: str, token: str | None) -> str:
    """``path`` with every occurrence of the callback ``token`` replaced by :data:`REDACTED`."""
    return path.replace(token, REDACTED) if token else path


def path_redactor(settings: Settings) -> Callable[[str], str]:
    """A function that redacts the configured callback token from a path (for access logs)."""
    token = settings.path_token
    return lambda path: redact_path(path, token)
