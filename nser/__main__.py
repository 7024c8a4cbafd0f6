"""``python -m nser``: the same as the ``nser`` command."""

from __future__ import annotations

from nser.cli import main

main()
