"""What the USSD channel answers the gateway: continue (``CON``) or finish (``END``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """One answer to the gateway: ``final`` ends the session (``END``), else ``CON``."""

    text: str
    final: bool

    def render(self) -> str:
        """The response body: ``CON <text>`` or ``END <text>``."""
        return f"{'END' if self.final else 'CON'} {self.text}"


def con(body: str) -> Reply:
    """A screen that continues the session."""
    return Reply(body, final=False)


def end(body: str) -> Reply:
    """A screen that ends the session."""
    return Reply(body, final=True)
