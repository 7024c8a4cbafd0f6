"""A QR code drawn with half-block characters, two modules per character cell (``segno``)."""

from __future__ import annotations

import io

import segno
from textual.widgets import Static


def qr_text(data: str, *, border: int = 2) -> str:
    """``data`` as a QR code (error correction L) in ``█▀▄`` and spaces, light modules as blocks.

    A 160-bit TOTP URI is a version-5 symbol: 41 columns by 21 lines with a
    2-module quiet zone, so it fits an 80×24 terminal beside its instructions.
    """
    code = segno.make(data, error="l", micro=False)
    buffer = io.StringIO()
    code.terminal(out=buffer, compact=True, border=border)
    return buffer.getvalue().rstrip("\n")


class QrCode(Static):
    """Shows one QR code; the stylesheet draws it light-on-dark whatever the theme."""

    def __init__(self, data: str, *, id: str | None = None) -> None:
        super().__init__(qr_text(data), id=id, markup=False)
