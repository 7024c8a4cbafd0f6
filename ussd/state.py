"""Where a USSD dialogue stands: the screens, the navigation stack and the terminal actions.

Plain values only; the transitions that move between them are in
:mod:`ussd.menu` (navigation, exclusion, status) and :mod:`ussd.screening_menu`
(checking one's gambling).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from core.instruments import InstrumentCode
from core.models import IdentifierKind
from core.periods import Period

BACK = "0"
HOME = "00"
#: What the main menu's choices open (the screening dialogue needs two of them).
MAIN_EXCLUDE = "1"
MAIN_STATUS = "2"
MAIN_HELP = "3"
MAIN_SCREENING = "4"
MAIN_LINK = "5"


class Screen(enum.StrEnum):
    """Screens that continue the session (``CON``)."""

    RESUME = "resume"
    LANGUAGE = "language"
    MAIN = "main"
    PERIOD = "period"
    CONFIRM = "confirm"
    STATUS = "status"
    QUESTION = "question"
    RESULT = "result"
    ID_KIND = "id_kind"
    ID_ENTRY = "id_entry"
    LINK = "link"


#: Screens in the middle of a flow: a session dropped on one of them is worth resuming.
#: Never a result (stored already) or the status screen (a read).
MID_FLOW = frozenset(
    {Screen.PERIOD, Screen.CONFIRM, Screen.QUESTION, Screen.ID_KIND, Screen.ID_ENTRY}
)
#: Screens ``0`` cannot leave backwards, nor be reached back into: a stored result.
SEALED = frozenset({Screen.RESULT})


class Action(enum.StrEnum):
    """Terminal states (``END``): each may read or change the register."""

    EXCLUDE = "exclude"
    HELP = "help"
    LAST_RESULT = "last_result"
    REMIND = "remind"
    NOT_MINE = "not_mine"
    STOP_REMINDERS = "stop_reminders"


@dataclass(frozen=True)
class Quiz:
    """A screening on a frame: the instrument and the answers (option indexes) given so far.

    On a result frame ``answers`` is complete and ``seq`` is the number of the
    input that completed it, which identifies the result within its session.
    """

    instrument: InstrumentCode
    answers: tuple[int, ...] = ()
    seq: int = 0


@dataclass(frozen=True)
class Document:
    """An ID the citizen typed, normalised (:mod:`core.identity`); never logged."""

    kind: IdentifierKind
    value: str


@dataclass(frozen=True)
class Frame:
    """One screen on the navigation stack and the input that opened it.

    ``kind`` is the ID document chosen (on the ID entry screen), ``document``
    the ID typed (on a confirm screen after it), ``entry`` a typed reference
    (on the link screen).
    """

    screen: Screen
    token: str = ""
    period: Period | None = None
    quiz: Quiz | None = None
    kind: IdentifierKind | None = None
    document: Document | None = None
    entry: str | None = None


@dataclass(frozen=True)
class State:
    """Where a session stands after replaying its inputs.

    ``stack`` is never empty; its last frame is the screen shown unless
    ``action`` is set. ``error`` means the last input was not a valid choice.
    ``count`` is how many inputs were replayed.
    """

    lang: str | None
    stack: tuple[Frame, ...]
    action: Action | None = None
    period: Period | None = None
    document: Document | None = None
    error: bool = False
    count: int = 0

    @property
    def screen(self) -> Screen:
        """The screen on top of the stack."""
        return self.stack[-1].screen

    @property
    def quiz(self) -> Quiz | None:
        """The screening on the top frame, if any."""
        return self.stack[-1].quiz

    @property
    def path(self) -> tuple[str, ...]:
        """Inputs that lead straight to this screen, with no detours (what resuming replays)."""
        return tuple(frame.token for frame in self.stack[1:])

    @property
    def resumable(self) -> bool:
        """True when a dropped session here is mid-flow (see :data:`MID_FLOW`)."""
        return self.action is None and self.screen in MID_FLOW


FRESH = State(lang=None, stack=(Frame(Screen.LANGUAGE),))


def push(state: State, frame: Frame, *, lang: str | None = None) -> State:
    """``state`` with ``frame`` shown on top (and ``lang`` chosen, if given)."""
    return replace(state, stack=(*state.stack, frame), lang=lang or state.lang, error=False)


def act(
    state: State,
    action: Action,
    *,
    period: Period | None = None,
    document: Document | None = None,
) -> State:
    """``state`` ending in the terminal ``action``."""
    return replace(state, action=action, period=period, document=document, error=False)
