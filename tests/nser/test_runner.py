"""The listening socket that the runner hands uvicorn, and the line it prints once serving."""

from __future__ import annotations

import asyncio
import socket

from core.settings import Settings
from nser.runner import bind, callback_banner


class _Probe(asyncio.Protocol):
    def __init__(self, seen: asyncio.Future[int]) -> None:
        self.seen = seen

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        accepted: socket.socket = transport.get_extra_info("socket")
        self.seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        transport.close()


async def test_accepted_connections_send_without_nagle_delay() -> None:
    # Regression: a socket made without IPPROTO_TCP gave accepted connections no
    # TCP_NODELAY, and every keep-alive answer waited 40 ms for a delayed ACK.
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[int] = loop.create_future()
    sock = bind("127.0.0.1", 0)
    server = await loop.create_server(lambda: _Probe(seen), sock=sock)
    try:
        host, port = sock.getsockname()[:2]
        _reader, writer = await asyncio.open_connection(host, port)
        assert await asyncio.wait_for(seen, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_the_serving_line_shows_the_callback_paths_with_the_token_hidden() -> None:
    token = Settings(callback_token="s3cret-path-token-0123456789")
    assert callback_banner("http://127.0.0.1:8000", token) == (
        "serving on http://127.0.0.1:8000 (callbacks: POST http://127.0.0.1:8000/ussd/<token>, "
        "http://127.0.0.1:8000/sms/<token>/inbound and "
        "http://127.0.0.1:8000/sms/<token>/delivery-reports)"
    )
    assert "s3cret" not in callback_banner("http://h", token)
    assert callback_banner("http://h", Settings()) == (
        "serving on http://h (callbacks: POST http://h/ussd, http://h/sms/inbound and "
        "http://h/sms/delivery-reports)"
    )
