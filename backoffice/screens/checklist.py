"""DSM-5 checklist (officer+): a trained officer ticks the gambling disorder criteria a
person meets and saves them (Ctrl+S) as a back-office screening (:mod:`core.assessments`).

The tally and band (4-5 mild, 6-7 moderate, 8-9 severe) follow the ticks as
they change; core scores and stores, audits, and sends the helpline SMS at a
band where NSER refers. One form is one request: saving twice stores once.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, SelectionList, Static

from backoffice.screens.base import StaffScreen
from backoffice.widgets.person import PersonFields
from core import assessments
from core.errors import RequestKeyConflict
from core.i18n import N_
from core.instruments.dsm5 import DSM5
from core.models import Role


class ChecklistScreen(StaffScreen):
    """The person's phone number and language, the nine criteria (the highlighted one in
    full below them), the running tally."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "leave_field", N_("Leave field"), show=False),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {"save": Role.OFFICER}

    def __init__(self) -> None:
        super().__init__()
        self.request_key = self.new_key()

    @staticmethod
    def new_key() -> str:
        """The request key of one filled-in form."""
        return f"backoffice:dsm5:{uuid.uuid4()}"

    def heading(self) -> str:
        return self.gettext("DSM-5 checklist")

    def body(self) -> ComposeResult:
        _ = self.gettext
        yield PersonFields()
        yield SelectionList[int](
            *((f"{n + 1}. {_(item)}", n) for n, item in enumerate(DSM5.items)),
            id="criteria",
            compact=True,
        )
        yield Static("", id="criterion", markup=False)
        yield Static("", id="tally", markup=False)

    def on_mount(self) -> None:
        self.query_one("#phone", Input).focus()
        self.tally()

    def action_leave_field(self) -> None:
        self.query_one("#criteria", SelectionList).focus()

    def on_selection_list_selected_changed(self) -> None:
        self.tally()

    def on_selection_list_selection_highlighted(
        self, event: SelectionList.SelectionHighlighted[int]
    ) -> None:
        """The highlighted criterion in full (a long one is cut short in the list)."""
        number = event.selection.value
        self.query_one("#criterion", Static).update(
            f"{number + 1}. {self.gettext(DSM5.items[number])}"
        )

    def met(self) -> list[int]:
        """The criteria ticked (0-based)."""
        return list(self.query_one("#criteria", SelectionList).selected)

    def tally(self) -> None:
        """``Criteria met (1, 2, 5, 9): 4 of 9: mild``, as the ticks stand.

        The numbers are spelled out so the ticks read without colour too.
        """
        _ = self.gettext
        met = sorted(self.met())
        self.query_one("#tally", Static).update(
            _("Criteria met ({numbers}): {count} of 9: {band}").format(
                numbers=", ".join(str(n + 1) for n in met) or "-",
                count=len(met),
                band=_(DSM5.band_of(len(met)).label),
            )
        )

    async def action_save(self) -> None:
        """Store the checklist for the number typed."""
        _ = self.gettext
        person = self.query_one(PersonFields)
        phone, language = person.phone, person.language
        if language is None:
            self.say(_("Language: type sw or en."), error=True)
            return
        met, key, now = self.met(), self.request_key, self.core.clock()
        try:
            recorded = await self.call(
                lambda db: assessments.record_dsm5(
                    db,
                    principal=self.principal,
                    keyring=self.core.keyring,
                    msisdn=phone,
                    met=met,
                    request_key=key,
                    language=language,
                    now=now,
                )
            )
        except RequestKeyConflict:
            self.say(_("This form was saved for another person; start again."), error=True)
            return
        if recorded is None:
            return
        result = recorded.result
        line = _("Saved for {bst}: {score} of 9 criteria, {band}.").format(
            bst=recorded.subject.bst, score=result.score, band=_(result.meaning.label)
        )
        if result.meaning.refer:
            line += " " + _("The helpline is being texted to them.")
        self.request_key = self.new_key()
        self.query_one(PersonFields).clear()
        self.query_one("#criteria", SelectionList).deselect_all()
        self.say(line)
