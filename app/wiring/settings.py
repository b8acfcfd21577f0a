"""Connects the settings dialog and the first-run assistant to the settings, the keyring,
config.toml and the running phone.

Checks what the agent typed the way the loader checks config.toml (`config.from_dict`,
then `app.core.account_check` for what the keys mean together), stores the password
through the secret store it is given, writes only the changed sections (comments and
unknown keys kept, `config.save_sections`) and applies what can be applied at once: the
phone account restarts the engine (after the calls in progress), the caller ids go to the
dial pad's chooser. The CRM, the phone-system backend and the language say they apply
after a restart. Everything it uses is passed in by app/compose.py.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, Slot

from app import config
from app.config import ConfigSaveError, Settings, SipSettings
from app.core.account_check import ProbeOutcome, ProbeResult, account_problems
from app.core.calls import CallRecord
from app.core.numbers import InvalidNumber, normalise
from app.core.phone import PhoneSession
from app.threads import Lane, TaskRunner
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import PASSWORD, FirstRunAssistant, SettingsDialog

log = logging.getLogger(__name__)

# The sections the dialog edits (audio applies itself, page by page, through its wiring).
SECTIONS = ("sip", "crm", "salesforce", "dynamics", "contactcenter", "ui")
ACCOUNT_KEYS = ("sip.server", "sip.username", "sip.transport", "sip.display_name",
                "sip.auth_username")
# Built once at start (app/compose.py); an outside CRM's settings are the CRM's.
RESTART_SECTIONS = ("crm", "salesforce", "dynamics", "contactcenter", "ui")

Probe = Callable[[SipSettings, "str | None"], ProbeResult]


class Secrets(Protocol):
    """The part of app.secrets.SecretStore used here (errors are RuntimeErrors that say
    what to do, like SecretStoreUnavailable)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsWiring", text)


def form_values(settings: Settings, keys: list[str]) -> dict[str, Any]:
    """The current values of `keys` (`section.key`), as the forms show them."""
    return {key: getattr(getattr(settings, key.split(".")[0]), key.split(".")[1])
            for key in keys}


class SettingsWiring(QObject):
    """See the module docstring. `start(first_run=...)` once the window is up."""

    def __init__(self, settings: Settings, dialog: SettingsDialog,
                 assistant: FirstRunAssistant, window: MainWindow, session: PhoneSession,
                 tasks: TaskRunner, *, secrets: Secrets,
                 password_key: Callable[[SipSettings], str], probe: Probe,
                 config_path: Path | None, restart_phone: Callable[[], object],
                 caller_ids_changed: Callable[[list[str]], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.dialog = dialog
        self.assistant = assistant
        self._window = window
        self._session = session
        self._tasks = tasks
        self._secrets = secrets
        self._password_key = password_key
        self._probe = probe
        self._path = config_path
        self._restart_phone = restart_phone
        self._caller_ids_changed = caller_ids_changed
        self.restart_pending = False  # the account changed during a call
        self.first_run = False
        window.settings_requested.connect(self.show_settings)
        window.setup_requested.connect(self.show_assistant)
        window.audio_settings_requested.connect(lambda: self.show_settings("audio"))
        dialog.save_requested.connect(self._save_from_dialog)
        dialog.account.test_requested.connect(lambda: self._test(dialog))
        assistant.account.test_requested.connect(lambda: self._test(assistant))
        assistant.finish_requested.connect(self._finish_assistant)
        session.subscribe(on_call_ended=self._call_ended)

    def start(self, *, first_run: bool) -> None:
        """At the first start with no account, the assistant instead of a failing phone."""
        self.first_run = first_run
        if first_run:
            log.info("the phone account is not set up: showing the first-run assistant")
            self._window.show_setup_needed()
            self.show_assistant()

    # -- showing ---------------------------------------------------------------------------

    @Slot()
    def show_settings(self, tab: str = "") -> None:
        d = self.dialog
        keys = [k for form in d.forms.values() for k in form.fields if k != PASSWORD]
        d.set_values(form_values(self.settings, keys))
        d.account.set_password_stored(self._stored_password(self.settings.sip) is not None)
        if tab:
            d.show_tab(tab)
        d.show()
        d.raise_()
        d.activateWindow()

    @Slot()
    def show_assistant(self) -> None:
        a = self.assistant
        a.set_values(form_values(self.settings, list(ACCOUNT_KEYS)))
        a.account.set_password_stored(self._stored_password(self.settings.sip) is not None)
        a.show()
        a.raise_()
        a.activateWindow()

    def _stored_password(self, sip: SipSettings) -> str | None:
        try:
            return self._secrets.get(self._password_key(sip))
        except RuntimeError as exc:  # no keyring: said when saving
            log.info("keyring not readable: %s", exc)
            return None

    # -- checking ------------------------------------------------------------------------

    def check(self, values: dict[str, Any]) -> tuple[Settings, dict[str, str]]:
        """The settings with `values` applied, and each bad key's problem (none: valid)."""
        data = config.to_dict(self.settings)
        for key, value in values.items():
            section, name = key.split(".")
            data[section][name] = value
        problems: dict[str, str] = {}
        numbers, region = values.get("sip.caller_ids"), self.settings.phone.default_region
        if numbers is not None:
            try:
                data["sip"]["caller_ids"] = list(dict.fromkeys(
                    normalise(n, region) for n in numbers))
            except InvalidNumber as exc:
                problems["sip.caller_ids"] = _tr("Not a phone number: %s") % exc
        new, loader = config.from_dict(data)
        for problem in loader:
            if problem.key in values:
                problems.setdefault(problem.key, problem.message.split("; using")[0])
        for problem in account_problems(new.sip, _account_tr):
            problems.setdefault(problem.key, problem.message)
        return new, problems

    # -- test connection ---------------------------------------------------------------------

    def _test(self, view: SettingsDialog | FirstRunAssistant) -> None:
        values = view.account.values()
        new, problems = self.check(values)
        view.account.show_problems(problems)
        if problems:
            return
        password = view.password() or self._stored_password(new.sip)
        view.account.show_testing()
        self._tasks.run(Lane.NETWORK, lambda: self._probe(new.sip, password),
                        succeeded=view.account.show_test_result,
                        failed=lambda exc: view.account.show_test_result(
                            _probe_crashed(exc)))

    # -- saving --------------------------------------------------------------------------

    @Slot()
    def _save_from_dialog(self) -> None:
        self._save(self.dialog, self.dialog.values())

    @Slot()
    def _finish_assistant(self) -> None:
        a = self.assistant
        values = a.values()
        new, problems = self.check(values)
        if not a.password() and self._stored_password(new.sip) is None:
            problems[PASSWORD] = _tr("Enter the password of the phone account.")
        if problems:
            a.show_problems(problems)
            return
        if self._save(a, values):
            a.accept()

    def _save(self, view: SettingsDialog | FirstRunAssistant, values: dict[str, Any]) -> bool:
        new, problems = self.check(values)
        view.show_problems(problems)
        if problems:
            return False
        password = view.password()
        if password:
            try:
                self._secrets.set(self._password_key(new.sip), password)
            except RuntimeError as exc:  # no usable keyring: nothing is saved
                view.show_problems({PASSWORD: str(exc)})
                return False
        old = self.settings
        changed = [name for name in SECTIONS if getattr(new, name) != getattr(old, name)]
        # Caller ids apply without a restart; anything else of the account needs a new engine.
        account_changed = bool(password) or dataclasses.replace(old.sip, caller_ids=[]) != \
            dataclasses.replace(new.sip, caller_ids=[])
        if changed and self._path is not None:
            try:
                config.save_sections(new, changed, self._path)
            except ConfigSaveError as exc:
                view.show_notice(_tr("Not saved: %s") % exc, "bad")
                return False
        for name in changed:
            # A new object, not changed in place: the running engine keeps the account
            # it started with until it is replaced.
            setattr(old, name, getattr(new, name))
        log.info("settings saved: %s%s", ", ".join(changed) or "nothing changed",
                 " and the SIP password" if password else "")
        view.show_notice(self._apply(changed, account_changed))
        return True

    def _apply(self, changed: list[str], account_changed: bool) -> str:
        """Apply what can be applied now; the words saying what happened."""
        said = [_tr("Saved.")]
        if "sip" in changed:
            self._caller_ids_changed(list(self.settings.sip.caller_ids))
        if account_changed:
            if any(not c.ended for c in self._session.calls):
                self.restart_pending = True
                said.append(_tr("The phone account applies when your calls have ended."))
            else:
                self._restart()
                said.append(_tr("The phone restarts with the new account."))
        later = [name for name in RESTART_SECTIONS if name in changed]
        if later:
            names = {"crm": _tr("the CRM"), "salesforce": _tr("the CRM"),
                     "dynamics": _tr("the CRM"), "contactcenter": _tr("the phone system"),
                     "ui": _tr("the language")}
            said.append(_tr("Restart Switchboard to apply %s.")
                        % ", ".join(dict.fromkeys(names[n] for n in later)))
        return " ".join(said)

    def _restart(self) -> None:
        self.restart_pending = False
        self.first_run = False
        self._restart_phone()

    def _call_ended(self, _record: CallRecord) -> None:
        if self.restart_pending and not any(not c.ended for c in self._session.calls):
            self._restart()


def _account_tr(text: str) -> str:
    return QCoreApplication.translate("AccountCheck", text)


def _probe_crashed(exc: BaseException) -> ProbeResult:
    log.error("connection test failed: %s", exc, exc_info=exc)
    return ProbeResult(ProbeOutcome.REFUSED, detail=str(exc) or type(exc).__name__)


__all__ = ["SECTIONS", "SettingsWiring", "form_values"]
