"""``nser text`` posts MO callbacks exactly as Africa's Talking does."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx

from nser.text import text


def test_each_line_is_posted_as_one_mo_with_a_fresh_id() -> None:
    posted: list[dict[str, str]] = []

    def gateway_view(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/sms/inbound"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        posted.append(form)
        return httpx.Response(200, text="OK")

    lines = iter(["JIZUIE 1Y", "NDIYO"])

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    shown: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(gateway_view)) as client:
        code = text(
            url="http://nser.test/sms/inbound",
            phone="+254712345678",
            to="40400",
            network="63902",
            bodies=None,
            client=client,
            read=read,
            write=shown.append,
        )
    assert code == 0
    assert [form["text"] for form in posted] == ["JIZUIE 1Y", "NDIYO"]
    assert {form["from"] for form in posted} == {"+254712345678"}
    assert {form["to"] for form in posted} == {"40400"}
    assert len({form["id"] for form in posted}) == 2
    assert all(form["id"].startswith("ATXid_text_") for form in posted)
    assert set(posted[0]) == {"from", "to", "text", "date", "id", "linkId", "networkCode"}
    assert len(shown) == 2
