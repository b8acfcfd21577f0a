"""The settings dialog and the first-run assistant: the phone account, audio, CRM, phone
system, language and the numbers the agent may show.

Views only. They show the values they are given (keyed like config.toml, `sip.server`),
hand back what the agent typed (`values()`, `password()`), and show the problems, test
results and notes they are told; checking, saving and applying are app/wiring/settings.py's.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.account_check import ProbeOutcome, ProbeResult
from app.ui.widgets import NoWheelComboBox

PASSWORD = "password"  # the key of the password field's problems (it is not in config)


class _Form(QWidget):
    """A form of fields keyed like config.toml, each with a problem line under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QWidget] = {}
        self.problems: dict[str, QLabel] = {}
        self.hints: dict[str, QLabel] = {}

    def add(self, key: str, label: str, field: QWidget, hint: str = "") -> None:
        field.setObjectName(key.replace(".", "_"))
        self.layout_.addRow(label, field)
        if hint:
            note = QLabel(hint, self)
            note.setProperty("hint", True)
            note.setWordWrap(True)
            self.layout_.addRow("", note)
            self.hints[key] = note
        problem = QLabel(self)
        problem.setObjectName(f"problem_{key.replace('.', '_')}")
        problem.setProperty("problem", True)
        problem.setWordWrap(True)
        problem.setTextFormat(Qt.TextFormat.PlainText)
        problem.hide()
        self.layout_.addRow("", problem)
        self.fields[key], self.problems[key] = field, problem

    def show_field(self, key: str, shown: bool) -> None:
        """Show or hide a field's rows (its label, hint and problem line with it)."""
        for widget in (self.fields[key], self.hints.get(key), self.problems[key]):
            if widget is not None:
                self.layout_.setRowVisible(widget, shown)

    def value(self, key: str) -> Any:
        field = self.fields[key]
        if isinstance(field, QLineEdit):
            return field.text().strip()
        if isinstance(field, NoWheelComboBox):
            return str(field.currentData())
        if isinstance(field, QSpinBox):
            return field.value()
        if isinstance(field, QPlainTextEdit):
            return [line.strip() for line in field.toPlainText().splitlines() if line.strip()]
        raise TypeError(key)

    def set_value(self, key: str, value: Any) -> None:
        field = self.fields[key]
        if isinstance(field, QLineEdit):
            field.setText(str(value))
        elif isinstance(field, NoWheelComboBox):
            field.setCurrentIndex(max(0, field.findData(value)))
        elif isinstance(field, QSpinBox):
            field.setValue(int(value))
        elif isinstance(field, QPlainTextEdit):
            field.setPlainText("\n".join(value))

    def show_problems(self, problems: dict[str, str]) -> list[str]:
        """Show each key's problem under its field (and clear the others); the keys shown."""
        shown = []
        for key, label in self.problems.items():
            text = problems.get(key, "")
            label.setText(text)
            label.setVisible(bool(text))
            field = self.fields[key]
            field.setProperty("invalid", bool(text))
            field.style().unpolish(field)
            field.style().polish(field)
            if text:
                shown.append(key)
        return shown


def _combo(parent: QWidget, choices: list[tuple[str, str]]) -> NoWheelComboBox:
    combo = NoWheelComboBox(parent)
    for data, text in choices:
        combo.addItem(text, data)
    return combo


class AccountForm(_Form):
    """The SIP account: server, user, password, transport, display name; Test connection."""

    test_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("account_form")
        server = QLineEdit(self)
        server.setPlaceholderText("pbx.example.com:5060")
        self.add("sip.server", self.tr("Phone system address"), server,
                 self.tr("The registrar your administrator gave you, host[:port]."))
        user = QLineEdit(self)
        user.setPlaceholderText("1001")
        self.add("sip.username", self.tr("SIP user"), user)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.add(PASSWORD, self.tr("Password"), self.password_edit,
                 self.tr("Kept in the system keyring, never in a file."))
        self.add("sip.transport", self.tr("Transport"),
                 _combo(self, [("udp", "UDP"), ("tcp", "TCP"),
                               ("tls", self.tr("TLS (encrypted)"))]))
        self.add("sip.display_name", self.tr("Your name"), QLineEdit(self),
                 self.tr("Shown to the people you call."))
        auth = QLineEdit(self)
        auth.setPlaceholderText(self.tr("the SIP user"))
        self.add("sip.auth_username", self.tr("Sign-in user"), auth)
        self.test_button = QPushButton(self.tr("Test connection"), self)
        self.test_button.setObjectName("test_connection")
        self.test_button.clicked.connect(self.test_requested)
        self.test_result = QLabel(self)
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.test_result, 1)
        self.layout_.addRow(row)

    def values(self) -> dict[str, Any]:
        return {key: self.value(key) for key in self.fields if key != PASSWORD}

    def password(self) -> str:
        return self.password_edit.text()

    def set_password_stored(self, stored: bool) -> None:
        self.password_edit.clear()
        self.password_edit.setPlaceholderText(
            self.tr("stored in the keyring (type to change)") if stored else "")

    def show_testing(self) -> None:
        self.test_button.setEnabled(False)
        self._result(self.tr("Testing…"), "pending")

    def show_test_result(self, result: ProbeResult) -> None:
        self.test_button.setEnabled(True)
        ok = result.outcome is ProbeOutcome.REGISTERED
        self._result(self.describe(result), "good" if ok else "bad")

    def describe(self, result: ProbeResult) -> str:
        """A connection test's end in words the agent (or their IT person) can act on."""
        answer = f" ({result.code} {result.reason})".rstrip() if result.code else ""
        detail = f" ({result.detail})" if result.detail else ""
        o = ProbeOutcome
        if result.outcome is o.REGISTERED:
            return self.tr("Registered as %s. The phone system accepts this account.") \
                % result.detail
        if result.outcome is o.BAD_SETTINGS:
            return self.tr("Fix the settings first: %s") % result.detail
        if result.outcome is o.UNKNOWN_HOST:
            return self.tr("The phone system address was not found%s. Check its spelling "
                           "and your network.") % detail
        if result.outcome is o.UNREACHABLE:
            return self.tr("The phone system could not be reached%s. Check the address, the "
                           "port and the transport, and whether a firewall or VPN is in the "
                           "way.") % detail
        if result.outcome is o.NO_ANSWER:
            return self.tr("The phone system did not answer. Check the address, the port and "
                           "the transport (UDP, TCP or TLS).")
        if result.outcome is o.TLS_FAILED:
            return self.tr("The secure connection failed%s. Check that the phone system "
                           "offers TLS on this port and that its certificate is valid.") \
                % detail
        if result.outcome is o.WRONG_PASSWORD:
            return self.tr("The phone system refused the user or password%s. Check both (and "
                           "the sign-in user, if your administrator gave you one).") % answer
        if result.outcome is o.NO_PASSWORD:
            return self.tr("The phone system asks for a password%s: enter it.") % answer
        if result.outcome is o.UNKNOWN_USER:
            return self.tr("The phone system does not know this user%s. Check the SIP "
                           "user.") % answer
        return self.tr("The phone system refused the registration%s.") % (answer or detail)

    def _result(self, text: str, kind: str) -> None:
        self.test_result.setText(text)
        self.test_result.setProperty("kind", kind)
        self.test_result.style().unpolish(self.test_result)
        self.test_result.style().polish(self.test_result)


# Tabs by the config section of their fields (the password is on the account tab).
TABS = ("account", "audio", "crm", "phone_system", "language", "caller_ids")
_TAB_OF_SECTION = {"sip": "account", "crm": "crm", "contactcenter": "phone_system",
                   "ui": "language"}


class SettingsDialog(QDialog):
    """Every setting an agent or their IT person changes in the app, on tabs (see TABS).

    `audio_page` is the audio settings page (app/ui/audio_settings.py), which applies each
    change at once; the other tabs apply on Save. `crm_area` is left for the outside
    CRMs' sign-in.
    """

    save_requested = Signal()

    def __init__(self, audio_page: QWidget | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(640)
        self.page = audio_page  # what app/wiring/audio.py shows, as on its own dialog
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("settings_tabs")
        self.account = AccountForm(self)
        self.forms: dict[str, _Form] = {"account": self.account}
        self._tab_index: dict[str, int] = {}
        self._add_tab("account", self.account, self.tr("Phone account"))
        if audio_page is None:
            audio_page = QLabel(self.tr("Sound is switched off (phone.audio = \"null\"): "
                                        "calls connect but are silent."), self)
            audio_page.setWordWrap(True)
        self._add_tab("audio", audio_page, self.tr("Audio"))

        crm = _Form(self)
        crm.add("crm.backend", self.tr("CRM"), _combo(crm, [
            ("local", self.tr("Built-in CRM")), ("salesforce", "Salesforce"),
            ("dynamics", "Dynamics 365")]))
        # What an outside CRM needs from its admin; shown for the CRM chosen above. The
        # sign-in itself comes after the restart, in the bar above the CRM pane.
        crm.add("salesforce.login_url", self.tr("Sign-in address"), QLineEdit(crm),
                self.tr("https://login.salesforce.com, https://test.salesforce.com for a "
                        "sandbox, or your org's My Domain address."))
        crm.add("salesforce.client_id", self.tr("Consumer key"), QLineEdit(crm),
                self.tr("Of the connected app your Salesforce admin set up for "
                        "Switchboard."))
        crm.add("dynamics.org_url", self.tr("Environment address"), QLineEdit(crm),
                "https://contoso.crm4.dynamics.com")
        crm.add("dynamics.client_id", self.tr("Application id"), QLineEdit(crm),
                self.tr("Of the app registration your Entra ID admin set up for "
                        "Switchboard."))
        crm.add("dynamics.tenant", self.tr("Tenant"), QLineEdit(crm),
                self.tr("Your organisation's Entra ID tenant (its domain or id)."))
        self._crm_form = crm
        backend = crm.fields["crm.backend"]
        assert isinstance(backend, NoWheelComboBox)
        backend.currentIndexChanged.connect(self._show_crm_fields)
        self._show_crm_fields()
        self.crm_area = QWidget(crm)  # the outside CRMs' sign-in goes here
        self.crm_area.setObjectName("crm_backend_area")
        self.crm_area_layout = QVBoxLayout(self.crm_area)
        self.crm_area_layout.setContentsMargins(0, 0, 0, 0)
        crm.layout_.addRow(self.crm_area)
        self.forms["crm"] = crm
        self._add_tab("crm", crm, self.tr("CRM"))

        pbx = _Form(self)
        pbx.add("contactcenter.backend", self.tr("Queues and availability"), _combo(pbx, [
            ("none", self.tr("None (calls only)")), ("sip_presence", self.tr("SIP presence")),
            ("asterisk_ami", "Asterisk (AMI)"), ("enreach", "Enreach")]))
        pbx.add("contactcenter.host", self.tr("Address"), QLineEdit(pbx),
                self.tr("Asterisk Manager host, or an Enreach API address (empty: found "
                        "by discovery)."))
        port = QSpinBox(pbx)
        port.setRange(1, 65535)
        pbx.add("contactcenter.port", self.tr("Port"), port)
        pbx.add("contactcenter.user", self.tr("User"), QLineEdit(pbx))
        pbx.add("contactcenter.interface", self.tr("Queue member"), QLineEdit(pbx),
                self.tr("Asterisk only: your queue member interface, e.g. PJSIP/1001."))
        self.forms["phone_system"] = pbx
        self._add_tab("phone_system", pbx, self.tr("Phone system"))

        language = _Form(self)
        language.add("ui.language", self.tr("Language"), _combo(language, [
            ("system", self.tr("As the system")), ("en", "English"), ("fi", "Suomi")]))
        self.forms["language"] = language
        self._add_tab("language", language, self.tr("Language"))

        numbers = _Form(self)
        edit = QPlainTextEdit(numbers)
        edit.setPlaceholderText("+358 9 123 4567")
        numbers.add("sip.caller_ids", self.tr("Numbers"), edit,
                    self.tr("One number per line. The first is your work number; you choose "
                            "the one shown on each outbound call under the dial pad."))
        self.forms["caller_ids"] = numbers
        self._add_tab("caller_ids", numbers, self.tr("Caller ids"))

        self.notice = QLabel(self)
        self.notice.setObjectName("settings_notice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton(self.tr("Save"),
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("save_settings")
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.save_requested)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.notice)
        layout.addWidget(buttons)

    def _show_crm_fields(self) -> None:
        chosen = self._crm_form.value("crm.backend")
        for key in self._crm_form.fields:
            if key.startswith(("salesforce.", "dynamics.")):
                self._crm_form.show_field(key, key.startswith(chosen + "."))

    def _add_tab(self, name: str, widget: QWidget, title: str) -> None:
        self._tab_index[name] = self.tabs.addTab(widget, title)

    # -- state in --------------------------------------------------------------------------

    def set_values(self, values: dict[str, Any]) -> None:
        for form in self.forms.values():
            for key in form.fields:
                if key in values:
                    form.set_value(key, values[key])
        self._show_crm_fields()
        self.show_problems({})
        self.notice.hide()

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(self._tab_index[name])

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each problem under its field; the first tab with one comes to the front."""
        first = None
        for name, form in self.forms.items():
            if form.show_problems(problems) and first is None:
                first = name
        if first is not None:
            self.show_tab(first)
            self.show_notice(self.tr("Not saved: fix the marked fields."), "bad")

    def show_notice(self, text: str, kind: str = "good") -> None:
        self.notice.setText(text)
        self.notice.setProperty("kind", kind)
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setVisible(bool(text))

    # -- what the agent typed -----------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for form in self.forms.values():
            out.update({k: form.value(k) for k in form.fields if k != PASSWORD})
        return out

    def password(self) -> str:
        return self.account.password()


class FirstRunAssistant(QDialog):
    """Shown at the first start with no phone account: the account, tested, then started."""

    finish_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("first_run_assistant")
        self.setWindowTitle(self.tr("Set up Switchboard"))
        self.setMinimumWidth(600)  # the hints under the fields stay on one or two lines
        title = QLabel(self.tr("Welcome to Switchboard"), self)
        title.setProperty("heading", True)
        intro = QLabel(self.tr("Enter the phone account your administrator gave you. Test "
                               "it, then start the phone. Everything else (audio, CRM, "
                               "queues) can be set later under Settings."), self)
        intro.setWordWrap(True)
        self.account = AccountForm(self)
        self.forms: dict[str, _Form] = {"account": self.account}
        self.notice = QLabel(self)
        self.notice.setObjectName("assistant_notice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        buttons = QDialogButtonBox(self)
        self.finish_button = buttons.addButton(self.tr("Start the phone"),
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.finish_button.setObjectName("finish_setup")
        self.later_button = buttons.addButton(self.tr("Later"),
                                              QDialogButtonBox.ButtonRole.RejectRole)
        self.later_button.setObjectName("setup_later")
        buttons.accepted.connect(self.finish_requested)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.account)
        layout.addWidget(self.notice)
        layout.addStretch(1)
        layout.addWidget(buttons)

    def set_values(self, values: dict[str, Any]) -> None:
        for key in self.account.fields:
            if key in values:
                self.account.set_value(key, values[key])

    def values(self) -> dict[str, Any]:
        return self.account.values()

    def password(self) -> str:
        return self.account.password()

    def show_problems(self, problems: dict[str, str]) -> None:
        if self.account.show_problems(problems):
            self.show_notice(self.tr("Fix the marked fields first."), "bad")

    def show_notice(self, text: str, kind: str = "good") -> None:
        self.notice.setText(text)
        self.notice.setProperty("kind", kind)
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setVisible(bool(text))


__all__ = ["PASSWORD", "TABS", "AccountForm", "FirstRunAssistant", "SettingsDialog"]
