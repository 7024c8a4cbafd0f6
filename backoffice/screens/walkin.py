"""Walk-in registration (officer+): a person at the desk is excluded once they read out the
code texted to their phone (:mod:`core.walkin`).

Type the number (and the person's language), Ctrl+T texts the code; choose the
period, optionally the ID document seen (kind and number: linked as *verified*),
type the code they read out, Ctrl+S registers. The reference is shown for the
person to note; the confirmation SMS follows as for any exclusion.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, RadioButton, RadioSet, Static

from backoffice.screens.base import StaffScreen
from backoffice.widgets.person import PersonFields
from backoffice.widgets.text import period as period_words
from backoffice.widgets.text import typed_kind, when
from core import walkin
from core.errors import CodeRefused, InvalidNationalId
from core.i18n import N_
from core.models import IdentifierKind, Role
from core.periods import Period
from core.texts import until


class WalkInScreen(StaffScreen):
    """Number and language, the period, the code, and what happened."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "send", N_("Text code"), priority=True),
        Binding("ctrl+s", "register", N_("Register"), priority=True),
        Binding("escape", "leave_field", N_("Leave field"), show=False),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {"send": Role.OFFICER, "register": Role.OFFICER}

    def __init__(self) -> None:
        super().__init__()
        self.challenge: walkin.Challenge | None = None

    def heading(self) -> str:
        return self.gettext("Walk-in registration")

    def body(self) -> ComposeResult:
        _ = self.gettext
        yield PersonFields()
        with RadioSet(id="period", compact=True):
            for value in Period:
                yield RadioButton(
                    period_words(value, _), value=value is Period.ONE_YEAR, id=f"p-{value}"
                )
        with Horizontal(id="document-row"):
            yield Input(id="document-kind", placeholder=_("ID seen: id, maisha, passport, alien"))
            yield Input(id="document", placeholder=_("Its number (optional)"), max_length=20)
        with Horizontal(id="code-row"):
            yield Input(id="code", placeholder=_("The code they read out"), max_length=6)
            yield Static("", id="chosen", markup=False)
        yield Static(
            _(
                "1. Type their number, Ctrl+T texts them a code. 2. Choose the period. "
                "3. Type the code they read from their phone, Ctrl+S registers."
            ),
            id="steps",
            markup=False,
        )
        yield Static("", id="outcome", markup=False)

    def on_mount(self) -> None:
        self.query_one("#phone", Input).focus()
        self.query_one("#code", Input).disabled = True
        self.show_period()

    def on_radio_set_changed(self) -> None:
        self.show_period()

    def show_period(self) -> None:
        """The period chosen in words (the radio buttons show it by colour only)."""
        self.query_one("#chosen", Static).update(
            self.gettext("Period: {period}").format(
                period=period_words(self.period(), self.gettext)
            )
        )

    def action_leave_field(self) -> None:
        self.query_one("#period", RadioSet).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "code":
            await self.action_register()
        elif event.input.id == "document-kind":
            self.query_one("#document", Input).focus()
        elif event.input.id == "document":
            self.query_one("#code", Input).focus()
        else:
            await self.action_send()

    def document(self) -> tuple[IdentifierKind, str] | bool | None:
        """The ID document typed: ``(kind, number)``, ``None`` when both fields are empty, or
        ``False`` (and the field error shown) when only one is filled or the kind is unknown."""
        _ = self.gettext
        kind_typed = self.query_one("#document-kind", Input).value.strip()
        number = self.query_one("#document", Input).value.strip()
        if not kind_typed and not number:
            return None
        kind = typed_kind(kind_typed, documents_only=True)
        if kind is None:
            self.say(_("ID kind: type id, maisha, passport or alien."), error=True)
            self.query_one("#document-kind", Input).focus()
            return False
        if not number:
            self.say(_("Type the ID number seen, or clear the ID kind."), error=True)
            self.query_one("#document", Input).focus()
            return False
        return kind, number

    def period(self) -> Period:
        """The period chosen (1 year unless another is)."""
        pressed = self.query_one("#period", RadioSet).pressed_button
        return Period((pressed.id or "p-1y").removeprefix("p-")) if pressed else Period.ONE_YEAR

    async def action_send(self) -> None:
        """Text a one-time code to the number typed."""
        _ = self.gettext
        person = self.query_one(PersonFields)
        phone, language = person.phone, person.language
        if language is None:
            self.say(_("Language: type sw or en."), error=True)
            return
        now = self.core.clock()
        challenge = await self.call(
            lambda db: walkin.start(
                db,
                principal=self.principal,
                keyring=self.core.keyring,
                msisdn=phone,
                language=language,
                now=now,
            )
        )
        if challenge is None:
            return
        self.challenge = challenge
        code = self.query_one("#code", Input)
        code.disabled = False
        code.value = ""
        code.focus()
        self.query_one("#outcome", Static).update("")
        self.say(
            _("Code texted. It is good until {time}; ask them to read it out.").format(
                time=when(challenge.expires_at)
            )
        )

    async def action_register(self) -> None:
        """Register the exclusion if the code typed is the one texted."""
        _ = self.gettext
        challenge = self.challenge
        if challenge is None:
            self.say(_("Text them a code first (Ctrl+T)."), error=True)
            return
        typed, chosen, now = self.query_one("#code", Input).value, self.period(), self.core.clock()
        document = self.document()
        if document is False:
            return
        seen = document if isinstance(document, tuple) else None
        try:
            outcome = await self.call(
                lambda db: walkin.register(
                    db,
                    principal=self.principal,
                    keyring=self.core.keyring,
                    challenge=challenge,
                    code=typed,
                    period=chosen,
                    now=now,
                    document=seen,
                )
            )
        except InvalidNationalId:
            self.say(_("That ID number does not follow its rules; nothing was done."), error=True)
            self.query_one("#document", Input).focus()
            return
        except CodeRefused as refused:
            self.say(self.refusal(refused), error=True)
            return
        if outcome is None:
            return
        if isinstance(outcome, walkin.Unchanged):
            self.finish(self.unchanged(outcome))
            return
        exclusion = outcome.exclusion
        text = _("Excluded {until}. Reference: {reference}. A confirmation SMS follows.").format(
            until=self.until(exclusion.ends_at), reference=exclusion.reference
        )
        if seen is not None:
            text += " " + _("ID recorded as verified.")
        self.finish(text)

    def unchanged(self, already: walkin.Unchanged) -> str:
        """Excluded already: the exclusion in force, and whether the ID seen was recorded."""
        _ = self.gettext
        words = {"until": self.until(already.ends_at), "reference": already.reference}
        if not already.verified:
            return _("Already excluded {until}, reference {reference}: nothing changed.").format(
                **words
            )
        return (
            _("Already excluded {until}, reference {reference}: exclusion unchanged.").format(
                **words
            )
            + " "
            + _("ID recorded as verified.")
        )

    def until(self, ends_at: datetime | None) -> str:
        """``until 21/11/2027`` (the last day, as the person is told) or ``permanently``."""
        return until(ends_at, self.principal.language, self.gettext)

    def refusal(self, refused: CodeRefused) -> str:
        """Why the code was not accepted, in words."""
        _ = self.gettext
        return {
            "wrong": _("That is not the code texted. Check it with them and type it again."),
            "expired": _("That code has expired; text a new one (Ctrl+T)."),
            "tries": _("Too many wrong codes; text a new one (Ctrl+T)."),
        }.get(refused.kind, _("That code was texted by someone else; text a new one."))

    def finish(self, text: str) -> None:
        """Show the outcome and clear the form for the next person."""
        self.challenge = None
        code = self.query_one("#code", Input)
        code.value = ""
        code.disabled = True
        self.query_one("#document-kind", Input).value = ""
        self.query_one("#document", Input).value = ""
        self.query_one(PersonFields).clear()
        self.query_one("#outcome", Static).update(text)
        self.say(self.gettext("Done. The next person may start."))
