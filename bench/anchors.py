"""Anchors: the least a USSD endpoint can do, served exactly as ``nser web`` is.

Three bare Starlette apps give the ceiling the machine allows for one uvicorn
process, measured in the same run as NSER, so that NSER's throughput is read
as a ratio rather than as an absolute number that depends on the machine:

- ``menu``: ``POST /ussd`` parses the form and answers a fixed ``CON`` screen
  (what a menu step costs with no application logic at all);
- ``write``: ``POST /ussd`` parses the form and, in one transaction on an
  asyncpg pool of 10, inserts one row into ``anchor_write`` (created at
  start-up), then answers ``END Done. Ref: A<id>`` (the least a step that
  writes the register can cost).

All also answer ``GET /healthz``. Served by uvicorn with one process,
``http="httptools"``, ``loop="uvloop"``, ``access_log=False`` and log level
``warning``.

Run:  .venv/bin/python -m bench.anchors {menu,write,json} --port P
      (``write`` reads its database from ``BENCH_ANCHOR_DATABASE_URL``)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

MENU_SCREEN = "CON Main menu\n1. Exclude me from betting\n2. My status\n3. Help"
TABLE = "anchor_write"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    session_id text NOT NULL,
    phone_number text NOT NULL,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = f"INSERT INTO {TABLE} (session_id, phone_number, text) VALUES ($1, $2, $3) RETURNING id"
POOL_SIZE = 10


async def healthz(request: Request) -> Response:
    """``GET /healthz``: always 200 once serving."""
    return PlainTextResponse("ok")


async def menu_step(request: Request) -> Response:
    """``POST /ussd``: parse the form, answer a fixed menu screen."""
    await request.form()
    return PlainTextResponse(MENU_SCREEN)


async def write_step(request: Request) -> Response:
    """``POST /ussd``: parse the form, insert one row and commit, answer ``END Done``."""
    form = await request.form()
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn, conn.transaction():
        row_id = await conn.fetchval(
            INSERT,
            str(form.get("sessionId", "")),
            str(form.get("phoneNumber", "")),
            str(form.get("text", "")),
        )
    return PlainTextResponse(f"END Done. Ref: A{row_id}")


async def json_lookup(request: Request) -> Response:
    """``POST /v1/lookups``: parse the JSON body, answer ``{"excluded": false}``."""
    await request.json()
    return JSONResponse({"excluded": False})


def json_app() -> Starlette:
    """The JSON anchor of the operator lookup."""
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/lookups", json_lookup, methods=["POST"]),
        ]
    )


def menu_app() -> Starlette:
    """The menu anchor."""
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/ussd", menu_step, methods=["POST"]),
        ]
    )


def write_app(database_url: str) -> Starlette:
    """The write anchor: an asyncpg pool of :data:`POOL_SIZE` on ``database_url``."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            database_url, min_size=POOL_SIZE, max_size=POOL_SIZE, timeout=10
        )
        try:
            await pool.execute(CREATE_TABLE)
            app.state.pool = pool
            yield
        finally:
            await pool.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/ussd", write_step, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def serve(app: Starlette, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` with ``nser web``'s uvicorn settings."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        workers=1,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
    )


def main() -> None:
    """Command line: ``menu`` or ``write``, ``--port``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["menu", "write", "json"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.kind == "menu":
        serve(menu_app(), args.port)
    elif args.kind == "json":
        serve(json_app(), args.port)
    else:
        serve(write_app(os.environ["BENCH_ANCHOR_DATABASE_URL"]), args.port)


if __name__ == "__main__":
    main()
