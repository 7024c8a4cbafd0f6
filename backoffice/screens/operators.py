"""Operators (admin): the licensed operators, their keys and delivery health, and the same
changes ``nser operator …`` makes: add (``n``), key create (``k``, shown once) and revoke
(``x``), webhook secret rotation (``s``), suspend or reactivate (``t``), configure (``c``).

Every change goes through :mod:`core.operator_admin`, which checks the admin role
and audits it; credentials are shown once, in a window that closes with Enter.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from backoffice.screens.base import StaffScreen
from backoffice.screens.form import FormScreen
from backoffice.widgets.text import when
from core import operator_admin
from core.errors import InvalidInput, NotFound, OperatorConflict
from core.i18n import N_
from core.models import KeyMode, OperatorStatus, Role


class OperatorsScreen(StaffScreen):
    """One line per operator; the selected operator's endpoint, contact and keys below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "add", N_("Add")),
        Binding("k", "key_create", N_("New key")),
        Binding("x", "key_revoke", N_("Revoke key")),
        Binding("s", "rotate", N_("Rotate secret")),
        Binding("t", "toggle_status", N_("Suspend/activate")),
        Binding("c", "configure", N_("Configure")),
        Binding("d", "redeliver", N_("Redeliver failed")),
        Binding("r", "refresh", N_("Refresh"), show=False),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {
        action: Role.ADMIN
        for action in ("add", "key_create", "key_revoke", "rotate", "toggle_status", "configure")
    }

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, operator_admin.OperatorLine] = {}

    def heading(self) -> str:
        return self.gettext("Operators")

    def body(self) -> ComposeResult:
        yield DataTable(id="operators", cursor_type="row")
        yield Static("", id="operator", markup=False)

    async def on_mount(self) -> None:
        _ = self.gettext
        table = self.query_one("#operators", DataTable)
        table.add_columns(
            "#", _("Name"), _("Licence"), _("Status"), _("Pending"), _("Failed"), _("Last push")
        )
        table.focus()
        await self.load()

    async def load(self) -> None:
        """Read the operators again and show them."""
        found = await self.call(lambda db: operator_admin.listing(db, principal=self.principal))
        if found is None:
            return
        self.lines = {line.summary.id: line for line in found}
        table = self.query_one("#operators", DataTable)
        table.clear()
        for line in found:
            summary = line.summary
            table.add_row(
                str(summary.id),
                summary.name[:18],
                summary.licence[:14],
                self.status_name(summary.status),
                str(line.pending),
                str(line.failed),
                self.last_push(line),
                key=str(summary.id),
            )
        self.describe()

    def status_name(self, status: str) -> str:
        """An operator's status in words."""
        _ = self.gettext
        return {"active": _("active"), "suspended": _("suspended")}.get(status, status)

    def last_push(self, line: operator_admin.OperatorLine) -> str:
        """The newest delivery's state and HTTP status (``failed 500``), ``-`` before any."""
        _ = self.gettext
        if line.last_status is None:
            return "-"
        words = {
            "pending": _("pending"),
            "delivered": _("delivered"),
            "failed": _("failed"),
            "skipped": _("skipped"),
        }.get(line.last_status, line.last_status)
        return f"{words} {line.last_http}" if line.last_http else words

    def selected(self) -> operator_admin.OperatorLine | None:
        """The operator under the cursor."""
        key = self.cursor_key("#operators")
        return None if key is None else self.lines.get(key)

    def on_data_table_row_highlighted(self) -> None:
        self.describe()

    def describe(self) -> None:
        """The selected operator's webhook, allowlist, contact and active keys."""
        _ = self.gettext
        line = self.selected()
        text = ""
        if line is not None:
            summary = line.summary
            hook = summary.webhook_url or "-"
            if summary.webhook_disabled:
                hook += " " + _("(disabled: the endpoint answered 410)")
            parts = [
                _("Webhook: {url}").format(url=hook),
                _("Allowed networks: {cidrs}").format(
                    cidrs=", ".join(summary.allow_cidrs) or _("any")
                ),
            ]
            keys = [
                _("key {id} {prefix}… {mode}, last used {used}").format(
                    id=key["id"],
                    prefix=key["prefix"],
                    mode=key["mode"],
                    used=when(_parsed(key["last_used_at"])) if key["last_used_at"] else _("never"),
                )
                for key in summary.keys
            ]
            parts.append("; ".join(keys) or _("No active keys."))
            text = "\n".join(parts)
        self.query_one("#operator", Static).update(text)

    async def action_refresh(self) -> None:
        await self.load()

    def shown_once(self, title: str, lines: list[str]) -> None:
        """A window with a credential; it is never shown again."""
        note = "\n".join([*lines, self.gettext("Copy it now: it is shown once, never again.")])
        self.app.push_screen(FormScreen(title, [], note=note))

    # Changes ------------------------------------------------------------------------

    def action_add(self) -> None:
        _ = self.gettext
        form = FormScreen(
            _("Add an operator"),
            [
                ("name", _("Company name")),
                ("licence", _("Licence number")),
                ("webhook_url", _("Webhook URL (https; may be left empty)")),
            ],
        )
        self.app.push_screen(form, self._added)

    async def _added(self, values: dict[str, str] | None) -> None:
        if not values:
            return
        _ = self.gettext
        now = self.core.clock()
        try:
            made = await self.call(
                lambda db: operator_admin.register(
                    db,
                    principal=self.principal,
                    keyring=self.core.keyring,
                    name=values["name"],
                    licence=values["licence"],
                    webhook_url=values["webhook_url"].strip(),
                    now=now,
                )
            )
        except OperatorConflict:
            self.say(_("That licence number is already registered."), error=True)
            return
        except InvalidInput:
            self.say(_("Give a name, a licence number and an https webhook URL."), error=True)
            return
        if made is not None:
            await self.load()
            self.say(_("Operator #{id} added.").format(id=made.id))
            self.shown_once(
                _("Operator #{id}: API key and webhook secret").format(id=made.id),
                [made.api_key.key, made.webhook_secret],
            )

    def action_key_create(self) -> None:
        _ = self.gettext
        line = self.selected()
        if line is None:
            return
        form = FormScreen(
            _("New API key for {name}").format(name=line.summary.name),
            [("mode", _("Type test for a test key; leave empty for a live key"))],
        )
        self.app.push_screen(form, lambda values: self._key_created(line.summary.id, values))

    async def _key_created(self, operator_id: int, values: dict[str, str] | None) -> None:
        if values is None:
            return
        _ = self.gettext
        mode = KeyMode.TEST if values.get("mode", "").strip().lower() == "test" else KeyMode.LIVE
        now = self.core.clock()
        made = await self.call(
            lambda db: operator_admin.create_key(
                db, principal=self.principal, operator_id=operator_id, mode=mode, now=now
            )
        )
        if made is not None:
            await self.load()
            self.say(_("Key {id} ({prefix}…) created.").format(id=made.id, prefix=made.prefix))
            self.shown_once(_("API key {id}").format(id=made.id), [made.key])

    def action_key_revoke(self) -> None:
        _ = self.gettext
        line = self.selected()
        if line is None:
            return
        form = FormScreen(
            _("Revoke a key of {name}").format(name=line.summary.name),
            [("key_id", _("Key number (as listed below the table)"))],
            note=_("A revoked key stops working within seconds."),
        )
        self.app.push_screen(form, lambda values: self._key_revoked(line.summary.id, values))

    async def _key_revoked(self, operator_id: int, values: dict[str, str] | None) -> None:
        if values is None:
            return
        _ = self.gettext
        typed = values.get("key_id", "").strip()
        if not typed.isdigit():
            self.say(_("This operator has no active key with that number."), error=True)
            return
        now = self.core.clock()
        try:
            done = await self.done(
                lambda db: operator_admin.revoke_key(
                    db,
                    principal=self.principal,
                    operator_id=operator_id,
                    key_id=int(typed),
                    now=now,
                )
            )
        except NotFound:
            self.say(_("This operator has no active key with that number."), error=True)
            return
        if done:
            await self.load()
            self.say(_("Key {id} revoked.").format(id=typed))

    def action_rotate(self) -> None:
        _ = self.gettext
        line = self.selected()
        if line is None:
            return
        form = FormScreen(
            _("Rotate the webhook secret of {name}?").format(name=line.summary.name),
            [],
            note=_("The current secret keeps signing for 72 hours beside the new one."),
        )
        self.app.push_screen(form, lambda values: self._rotated(line.summary.id, values))

    async def _rotated(self, operator_id: int, values: dict[str, str] | None) -> None:
        if values is None:
            return
        _ = self.gettext
        now = self.core.clock()
        secret = await self.call(
            lambda db: operator_admin.rotate_secret(
                db,
                principal=self.principal,
                keyring=self.core.keyring,
                operator_id=operator_id,
                now=now,
            )
        )
        if secret is not None:
            self.say(_("Webhook secret rotated."))
            self.shown_once(_("New webhook secret"), [secret])

    def action_toggle_status(self) -> None:
        _ = self.gettext
        line = self.selected()
        if line is None:
            return
        suspend = line.summary.status == OperatorStatus.ACTIVE.value
        question = (
            _("Suspend {name}? Its API calls are refused and nothing is pushed to it.")
            if suspend
            else _("Reactivate {name}?")
        )
        form = FormScreen(question.format(name=line.summary.name), [])
        target = OperatorStatus.SUSPENDED if suspend else OperatorStatus.ACTIVE
        self.app.push_screen(form, lambda values: self._set_status(line.summary.id, target, values))

    async def _set_status(
        self, operator_id: int, target: OperatorStatus, values: dict[str, str] | None
    ) -> None:
        if values is None:
            return
        _ = self.gettext
        now = self.core.clock()
        done = await self.done(
            lambda db: operator_admin.set_status(
                db, principal=self.principal, operator_id=operator_id, status=target, now=now
            )
        )
        if not done:
            return
        await self.load()
        self.say(
            _("Operator #{id} suspended.").format(id=operator_id)
            if target is OperatorStatus.SUSPENDED
            else _("Operator #{id} active again.").format(id=operator_id)
        )

    def action_redeliver(self) -> None:
        _ = self.gettext
        line = self.selected()
        if line is None:
            return
        if not line.failed:
            self.say(_("{name} has no failed pushes.").format(name=line.summary.name))
            return
        form = FormScreen(
            _("Send {name}'s {count} failed pushes again?").format(
                name=line.summary.name, count=line.failed
            ),
            [],
            note=_("Each gets one more attempt, with the same webhook-id."),
        )
        self.app.push_screen(form, lambda values: self._redeliver(line.summary.id, values))

    async def _redeliver(self, operator_id: int, values: dict[str, str] | None) -> None:
        if values is None:
            return
        _ = self.gettext
        now = self.core.clock()
        count = await self.call(
            lambda db: operator_admin.redeliver_failed(
                db, principal=self.principal, operator_id=operator_id, now=now
            )
        )
        if count is None:
            return
        await self.load()
        self.say(_("{count} failed pushes sent again.").format(count=count))

    def action_configure(self) -> None:
        _ = self.gettext
        line = self.selected()
        if line is None:
            return
        form = FormScreen(
            _("Configure {name}").format(name=line.summary.name),
            [
                ("webhook_url", _("Webhook URL")),
                ("allow", _("Allowed networks, e.g. 196.201.214.0/24 (any: *)")),
                ("contact_name", _("Technical contact's name")),
                ("contact_phone", _("Technical contact's mobile number")),
            ],
            note=_("Empty keeps a setting as it is; - removes it."),
        )
        self.app.push_screen(form, lambda values: self._configured(line.summary.id, values))

    async def _configured(self, operator_id: int, values: dict[str, str] | None) -> None:
        if values is None:
            return
        _ = self.gettext

        def setting(name: str) -> str | None:
            typed = values.get(name, "").strip()
            return None if not typed else "" if typed == "-" else typed

        allow_typed = setting("allow")
        allow = (
            None
            if allow_typed is None
            else []
            if allow_typed in {"", "*"}
            else allow_typed.replace(",", " ").split()
        )
        now = self.core.clock()
        done = await self.done(
            lambda db: operator_admin.configure(
                db,
                principal=self.principal,
                keyring=self.core.keyring,
                operator_id=operator_id,
                webhook_url=setting("webhook_url"),
                allow=allow,
                contact_name=setting("contact_name"),
                contact_phone=setting("contact_phone"),
                now=now,
            ),
            {InvalidInput: _("Not saved: give an https URL, IP networks and a mobile number.")},
        )
        if done:
            await self.load()
            self.say(_("Operator #{id} configured.").format(id=operator_id))


def _parsed(iso: object) -> datetime | None:
    """A summary's ISO timestamp back as a datetime."""
    return datetime.fromisoformat(iso) if isinstance(iso, str) else None
