"""The listening socket that the runner hands uvicorn."""

from __future__ import annotations

import asyncio
import socket

from nser.runner import bind


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
