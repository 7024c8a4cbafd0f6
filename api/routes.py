"""The operator API's endpoints: lookups, subscriptions, the event feed and test webhooks.

Each handler authenticates the key (:mod:`api.access`), reads a bounded JSON
body into a :mod:`api.schemas` model, calls ``core`` and answers JSON; every
failure is a :class:`api.problems.Problem` or a domain error that the app turns
into problem details. Lookups read only the in-process register
(:mod:`core.register_cache`) and never wait on the database or Redis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.access import Caller, caller, read_body
from api.problems import Problem, field_errors, request_id
from api.schemas import BatchLookup, BulkSubscribe, Person, WebhookTest
from api.testmode import standing_for_test_key
from core import audit, feed, subscriptions, webhooks
from core.models import KeyMode
from core.register_cache import Standing
from core.subscriptions import FieldErrors, Identifiers

LOOKUP_BODY = 4 * 1024
BATCH_BODY = 256 * 1024
BULK_BODY = 2 * 1024 * 1024
PAGE_DEFAULT = 100
PAGE_MAX = 1_000
#: A test webhook costs this many requests of the key's rate (it makes an outbound call).
TEST_WEBHOOK_COST = 100


#: ``{"excluded":false}`` as :class:`starlette.responses.JSONResponse` renders it.
NOT_EXCLUDED = JSONResponse({"excluded": False}).body


def standing_json(standing: Standing | None) -> dict[str, Any]:
    """``{"excluded": false}`` or ``{"excluded": true, "bst": …, "until": …}`` (ISO 8601 UTC)."""
    if standing is None:
        return {"excluded": False}
    until = standing.until.isoformat().replace("+00:00", "Z") if standing.until else None
    return {"excluded": True, "bst": standing.bst, "until": until}


def _identify(call: Caller, person: Person) -> Identifiers:
    return subscriptions.identifiers(
        call.services.keyring, msisdn=person.msisdn, national_id=person.national_id
    )


def _standing(call: Caller, person: Person, ids: Identifiers, now: datetime) -> Standing | None:
    if call.principal.mode is KeyMode.TEST:
        return standing_for_test_key(person)
    return call.desk.register.lookup(ids.indexes, now=now)


def _guard_quota(call: Caller, now: datetime) -> None:
    if call.principal.mode is KeyMode.TEST:
        return
    wait = call.desk.usage.blocked_for(call.principal.operator_id, now=now)
    if wait:
        raise Problem(
            429,
            "daily-quota",
            "Daily lookup quota reached",
            "This operator looked up more distinct people today than its quota allows.",
            headers={"Retry-After": str(wait)},
        )


def _record(call: Caller, request: Request, kind: str, **counts: Any) -> None:
    if call.principal.mode is KeyMode.LIVE:
        call.desk.usage.record(
            call.principal, request_id=request_id(request.scope), kind=kind, **counts
        )


async def lookup(request: Request) -> Response:
    """``POST /v1/lookups``: is this person excluded? (see :class:`api.schemas.Standing`)."""
    call = await caller(request)
    now = call.services.clock()
    _guard_quota(call, now)
    try:
        person = await read_body(request, Person, LOOKUP_BODY)
        ids = _identify(call, person)
    except (Problem, FieldErrors) as exc:
        status = exc.status if isinstance(exc, Problem) else 422
        _record(call, request, "lookup", items=1, excluded=0, status=status, now=now)
        raise
    standing = _standing(call, person, ids, now)
    _record(
        call,
        request,
        "lookup",
        items=1,
        excluded=int(standing is not None),
        status=200,
        now=now,
        indexes=ids.indexes,
    )
    if standing is None:  # most answers: the same bytes every time, rendered once
        return Response(NOT_EXCLUDED, media_type="application/json")
    return JSONResponse(standing_json(standing))


async def lookup_batch(request: Request) -> Response:
    """``POST /v1/lookups/batch``: up to 1,000 people; per-item answers or errors, in order."""
    call = await caller(request)
    batch = await read_body(request, BatchLookup, BATCH_BODY)
    now = call.services.clock()
    _guard_quota(call, now)
    items: list[dict[str, Any]] = []
    indexes: list[str] = []
    excluded = 0
    for item in batch.items:
        try:
            ids = _identify(call, item)
        except FieldErrors as exc:
            items.append({"id": item.id, "error": {"errors": field_errors(exc.errors)}})
            continue
        standing = _standing(call, item, ids, now)
        excluded += standing is not None
        indexes.extend(ids.indexes)
        items.append({"id": item.id, **standing_json(standing)})
    _record(
        call,
        request,
        "lookup_batch",
        items=len(batch.items),
        excluded=excluded,
        status=200,
        now=now,
        indexes=indexes,
    )
    return JSONResponse({"items": items})


async def _audit_call(
    db: AsyncSession, call: Caller, request: Request, action: str, *, items: int, now: datetime
) -> None:
    """Audit one subscription call: the operator, the request id and how many customers."""
    await audit.append(
        db,
        actor=f"operator:{call.principal.operator_id}",
        action=action,
        entity=f"operator:{call.principal.operator_id}",
        after={"request_id": request_id(request.scope), "items": items},
        occurred_at=now,
    )


async def put_subscription(request: Request) -> Response:
    """``PUT /v1/subscriptions/{customer_ref}``: hold this customer; answers their standing."""
    call = await caller(request)
    ref = subscriptions.check_ref(request.path_params["customer_ref"])
    person = await read_body(request, Person, LOOKUP_BODY)
    ids = _identify(call, person)
    now = call.services.clock()
    if call.principal.mode is KeyMode.LIVE:
        async with call.services.db() as db:
            await subscriptions.subscribe(
                db,
                operator_id=call.principal.operator_id,
                customer_ref=ref,
                identifiers=ids,
                now=now,
            )
            await _audit_call(db, call, request, "subscription.put", items=1, now=now)
            await db.commit()
    standing = _standing(call, person, ids, now)
    _record(
        call, request, "subscribe", items=1, excluded=int(standing is not None), status=200, now=now
    )
    return JSONResponse({"customer_ref": ref, **standing_json(standing)})


async def delete_subscription(request: Request) -> Response:
    """``DELETE /v1/subscriptions/{customer_ref}``: stop holding this customer (idempotent, 204)."""
    call = await caller(request)
    ref = subscriptions.check_ref(request.path_params["customer_ref"])
    now = call.services.clock()
    if call.principal.mode is KeyMode.LIVE:
        async with call.services.db() as db:
            existed = await subscriptions.unsubscribe(
                db, operator_id=call.principal.operator_id, customer_ref=ref
            )
            if existed:
                await _audit_call(db, call, request, "subscription.deleted", items=1, now=now)
            await db.commit()
    _record(call, request, "unsubscribe", items=1, excluded=0, status=204, now=now)
    return Response(status_code=204)


async def bulk_subscribe(request: Request) -> Response:
    """``POST /v1/subscriptions/bulk``: up to 10,000 customers in one call, per-item outcomes."""
    call = await caller(request, cost=10)
    bulk = await read_body(request, BulkSubscribe, BULK_BODY)
    now = call.services.clock()
    accepted: list[tuple[str, Identifiers]] = []
    outcomes: list[dict[str, Any]] = []
    for item in bulk.items:
        try:
            ref = subscriptions.check_ref(item.customer_ref)
            ids = _identify(call, item)
        except FieldErrors as exc:
            outcomes.append(
                {
                    "customer_ref": item.customer_ref,
                    "status": "error",
                    "errors": field_errors(exc.errors),
                }
            )
            continue
        accepted.append((ref, ids))
        standing = _standing(call, item, ids, now)
        outcomes.append({"customer_ref": ref, "status": "subscribed", **standing_json(standing)})
    if accepted and call.principal.mode is KeyMode.LIVE:
        async with call.services.db() as db:
            await subscriptions.subscribe_many(
                db, operator_id=call.principal.operator_id, items=accepted, now=now
            )
            await _audit_call(db, call, request, "subscription.bulk", items=len(accepted), now=now)
            await db.commit()
    excluded = sum(1 for o in outcomes if o.get("excluded"))
    _record(
        call, request, "subscribe_bulk", items=len(accepted), excluded=excluded, status=200, now=now
    )
    return JSONResponse(
        {
            "subscribed": len(accepted),
            "excluded": excluded,
            "failed": len(outcomes) - len(accepted),
            "items": outcomes,
        }
    )


def _cursor(request: Request) -> tuple[int, int]:
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for name, default, low, high in (
        ("after", 0, 0, 2**63 - 1),
        ("limit", PAGE_DEFAULT, 1, PAGE_MAX),
    ):
        raw = request.query_params.get(name)
        if raw is None:
            values[name] = default
            continue
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[name] = f"a whole number from {low} to {high}"
            continue
        values[name] = int(raw)
    if errors:
        raise Problem(422, "invalid-input", "Invalid input", errors=field_errors(errors))
    return values["after"], values["limit"]


async def list_subscriptions(request: Request) -> Response:
    """``GET /v1/subscriptions?after=&limit=``: what we hold for this operator, to reconcile."""
    call = await caller(request)
    after, limit = _cursor(request)
    if call.principal.mode is KeyMode.TEST:
        return JSONResponse({"items": [], "next": None})
    async with call.services.db() as db:
        held = await subscriptions.page(
            db, operator_id=call.principal.operator_id, after=after, limit=limit
        )
    items = [
        {
            "customer_ref": h.customer_ref,
            "has_msisdn": h.has_msisdn,
            "has_national_id": h.has_national_id,
            "updated_at": h.updated_at.isoformat().replace("+00:00", "Z"),
        }
        for h in held
    ]
    return JSONResponse({"items": items, "next": held[-1].id if len(held) == limit else None})


async def events(request: Request) -> Response:
    """``GET /v1/events?after=&limit=``: this operator's events after the cursor, oldest first."""
    call = await caller(request)
    after, limit = _cursor(request)
    if call.principal.mode is KeyMode.TEST:
        return JSONResponse({"events": [], "next": after})
    async with call.services.db() as db:
        found = await feed.page(
            db, operator_id=call.principal.operator_id, after=after, limit=limit
        )
    return JSONResponse({"events": found.events, "next": found.next})


async def test_webhook(request: Request) -> Response:
    """``POST /v1/webhooks/test`` (test keys): send a signed sample ``exclusion.created`` now.

    It goes to the operator's webhook URL exactly as real deliveries do, marked
    ``"test": true``, once (no retry, no feed entry); the answer says what the
    endpoint replied (:class:`api.schemas.WebhookTestAnswer`).
    """
    call = await caller(request, cost=TEST_WEBHOOK_COST)
    if call.principal.mode is not KeyMode.TEST:
        raise Problem(
            403, "test-key-only", "Test key required", "send test webhooks with a nser_test_ key"
        )
    asked = await read_body(request, WebhookTest, LOOKUP_BODY)
    async with call.services.db() as db:
        ready = await webhooks.sample(
            db,
            keyring=call.services.keyring,
            operator_id=call.principal.operator_id,
            now=call.services.clock(),
            customer_ref=asked.customer_ref,
        )
    async with webhooks.http_client(connections=1) as http:
        result = await ready.send(http)
    return JSONResponse(
        {
            "webhook_id": ready.message_id,
            "delivered": result.ok,
            "status": result.status_code,
            "error": result.error,
        }
    )


def routes() -> list[Route]:
    """The ``/v1`` routes (paths are full: the composition root dispatches by prefix)."""
    return [
        Route("/v1/lookups", lookup, methods=["POST"]),
        Route("/v1/lookups/batch", lookup_batch, methods=["POST"]),
        Route("/v1/subscriptions/bulk", bulk_subscribe, methods=["POST"]),
        Route("/v1/subscriptions", list_subscriptions, methods=["GET"]),
        Route("/v1/subscriptions/{customer_ref}", put_subscription, methods=["PUT"]),
        Route("/v1/subscriptions/{customer_ref}", delete_subscription, methods=["DELETE"]),
        Route("/v1/events", events, methods=["GET"]),
        Route("/v1/webhooks/test", test_webhook, methods=["POST"]),
    ]
