"""No input, however malformed, makes a USSD endpoint answer 5xx (property-based, hypothesis)."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = [
    "sessionId",
    "serviceCode",
    "phoneNumber",
    "networkCode",
    "text",
    "status",
    "cost",
    "durationInMillis",
    "hopsCount",
    "input",
    "errorMessage",
    "date",
]
NASTY = st.sampled_from(
    ["", "\x00", "0", "-1", "3000000000", "9" * 40, "+254712345678", "*384*7#", "2*1*2*1", "٣"]
)
VALUES = st.one_of(NASTY, st.text(max_size=40), st.text(min_size=1000, max_size=1100))
FORMS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), VALUES, max_size=12)
PATHS = st.sampled_from(["/ussd", "/ussd/events", "/ussd/x" * 3, "/ussd/%00", "/ussd/events/x"])
RELAXED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@RELAXED
@given(path=PATHS, form=FORMS)
async def test_no_form_makes_a_5xx(
    client: httpx.AsyncClient, path: str, form: dict[str, str]
) -> None:
    response = await client.post(path, data=form)
    assert response.status_code < 500, (path, form, response.text)


@RELAXED
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain; charset=utf-8",
        ]
    ),
)
async def test_no_body_makes_a_5xx(
    client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    for path in ("/ussd", "/ussd/events"):
        response = await client.post(path, content=body, headers={"content-type": content_type})
        assert response.status_code < 500, (path, body, response.text)


async def test_a_query_string_or_wrong_method_is_not_a_5xx(client: httpx.AsyncClient) -> None:
    response = await client.get("/ussd", params={"phoneNumber": "+254722000301"})
    assert response.status_code == 405
