"""Where a web process spends its time: ``py-spy record`` during a wrk run, summarised.

``py-spy record --nonblocking --format raw`` samples the process (without
pausing it) into collapsed stacks, one ``frame;frame;… count`` line per
distinct stack, each frame ``function (file:line)``. :func:`summarise` reads
them into two views of the busy samples (py-spy leaves idle ones out):

- **by area**: each sample goes to the innermost frame that belongs to a known
  area (``phonenumbers``, ``hmac``/``hashlib``, ``pydantic``, ``json``,
  ``starlette``, ``uvicorn``/``httptools``, ``sqlalchemy``/``asyncpg``, ``redis``,
  or our own ``api``/``core``/``nser``/``gateway`` packages);
- **by leaf** (self): the innermost frame of each sample (for C code such as a
  socket write, the Python line that called it);
- **by function** (inclusive): the share of samples in which a function of our
  packages, or a chosen library entry point, is on the stack.

py-spy is not a project dependency: ``pip install py-spy`` (it needs ptrace
rights on the process; as root in this container it has them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PY_SPY = "py-spy"
RATE = 200

#: (area, path fragment) of libraries (standard or installed): the innermost known frame wins.
LIBRARY_AREAS = (
    ("phonenumbers", "/phonenumbers/"),
    ("hmac/hashlib", "/hmac.py"),
    ("pydantic", "/pydantic"),
    ("json", "/json/"),
    ("sqlalchemy/asyncpg", "/sqlalchemy/"),
    ("sqlalchemy/asyncpg", "/asyncpg/"),
    ("redis", "/redis/"),
    ("starlette", "/starlette/"),
    ("uvicorn/httptools", "/uvicorn/"),
    ("uvicorn/httptools", "/httptools/"),
    ("asyncio", "/asyncio/"),
)
REPO = Path(__file__).resolve().parent.parent
_OURS = re.compile(rf"^{re.escape(str(REPO))}/(api|core|nser|gateway)/")
#: Library functions worth naming in the inclusive view.
_NAMED = {
    "parse (phonenumbers/phonenumberutil.py)",
    "is_valid_number (phonenumbers/phonenumberutil.py)",
    "number_type (phonenumbers/phonenumberutil.py)",
    "format_number (phonenumbers/phonenumberutil.py)",
    "model_validate_json (pydantic/main.py)",
    "render (starlette/responses.py)",
    "__init__ (starlette/responses.py)",
}
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Profile:
    """A summarised recording: busy samples, shares by area, leaf and function (0..1)."""

    samples: int
    areas: list[tuple[str, float]]
    leaves: list[tuple[str, float]]
    functions: list[tuple[str, float]]
    raw_path: Path


def available() -> bool:
    """True when py-spy is on the PATH."""
    return shutil.which(PY_SPY) is not None


def start(pid: int, seconds: int, raw_path: Path) -> subprocess.Popen[bytes]:
    """Start recording ``pid`` for ``seconds`` into ``raw_path`` (collapsed stacks)."""
    argv = [PY_SPY, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(RATE)]
    argv += ["--nonblocking", "--full-filenames", "--format", "raw", "--output", str(raw_path)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _short(frame: str) -> tuple[str, str]:
    """``("func (pkg/file.py)", file path)`` of a collapsed-stack frame."""
    m = _FRAME.match(frame)
    if m is None:
        return frame or "(no Python frame)", ""
    path = m["file"]
    parts = path.split("/")
    return f"{m['func']} ({'/'.join(parts[-2:])})", path


def _area(frame: tuple[str, str]) -> str | None:
    path = frame[1]
    ours = _OURS.match(path)
    if ours:
        return f"nser: {ours[1]}"
    return next((name for name, part in LIBRARY_AREAS if part in path), None)


def summarise(raw_path: Path, top: int = 25) -> Profile:
    """Read ``raw_path`` into the two views of the module docstring."""
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    samples = 0
    for line in raw_path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_short(f) for f in stack.split(";")]
        areas[next(filter(None, map(_area, reversed(frames))), "other")] += count
        leaves[frames[-1][0]] += count
        seen = {name for name, path in frames if _OURS.search(path) or name in _NAMED}
        for name in seen:
            functions[name] += count
    total = samples or 1
    return Profile(
        samples,
        [(a, c / total) for a, c in areas.most_common()],
        [(f, c / total) for f, c in leaves.most_common(12)],
        [(f, c / total) for f, c in functions.most_common(top)],
        raw_path,
    )


def print_profile(profile: Profile, label: str) -> None:
    """The two views as tables."""
    print(f"\n== py-spy on {label}: {profile.samples} busy samples at {RATE} Hz")
    print(f"# collapsed stacks: {profile.raw_path}")
    print("-- by area (innermost known frame)")
    for area, share in profile.areas:
        print(f"{share * 100:6.1f} %  {area}")
    print("-- by leaf (self: innermost frame)")
    for name, share in profile.leaves:
        print(f"{share * 100:6.1f} %  {name}")
    if profile.functions:
        print("-- by function (inclusive: on the stack)")
    for name, share in profile.functions:
        print(f"{share * 100:6.1f} %  {name}")
