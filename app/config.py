"""Typed settings (dataclasses) and their TOML file, `config.toml` in the profile directory.

Every key has a default, a type and, where it matters, a range or a set of choices. A bad
file never stops the app: each bad key is reported with its name and the problem, and the
default is used for it. Secrets are never here: the SIP password lives in keyring under
the key named by `sip.keyring_key` (see app/secrets.py).
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib


def _opt(default: Any, doc: str, *, choices: tuple[str, ...] = (), lo: float | None = None,
         hi: float | None = None) -> Any:
    meta = {"doc": doc, "choices": choices, "lo": lo, "hi": hi}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SipSettings:
    mode: str = _opt("registrar", "`registrar`: register to `server`; `direct`: no registrar, "
                     "listen on `listen_address`:`port` for peer-to-peer calls.",
                     choices=("registrar", "direct"))
    server: str = _opt("", "Registrar / proxy host[:port], e.g. `pbx.example.com:5060`.")
    domain: str = _opt("", "SIP domain of the account; empty means the `server` host.")
    username: str = _opt("", "SIP user (the part before @ in the agent's address).")
    auth_username: str = _opt("", "Authentication user when it differs from `username`.")
    display_name: str = _opt("", "Name shown to people the agent calls.")
    keyring_key: str = _opt("", "Keyring entry holding the SIP password; empty: "
                            "`username@domain`. The password itself is never in this file.")
    transport: str = _opt("udp", "Transport to the registrar.", choices=("udp", "tcp", "tls"))
    listen_address: str = _opt("0.0.0.0", "Local address to bind SIP and RTP to.")
    port: int = _opt(0, "Local SIP port; 0 picks a free one (direct mode wants a fixed one).",
                     lo=0, hi=65535)
    codecs: list[str] = _opt(["G722", "PCMA", "PCMU"], "Audio codecs to offer, best first; "
                             "any other codec is switched off. Available: G722 (wideband), "
                             "PCMA, PCMU, GSM, iLBC, speex (the default list is what phone "
                             "systems carry; speex distorts music and tones).")
    media_address: str = _opt("", "Address written into the SDP for call audio when it is "
                              "not `listen_address` (e.g. a NAT's public address with the "
                              "RTP ports forwarded); empty: `listen_address`.")
    rtp_port: int = _opt(4000, "First local UDP port for call audio (RTP, with RTCP on the "
                         "next port); a firewall opens `rtp_port` to `rtp_port + "
                         "rtp_port_range`.", lo=1024, hi=65000)
    rtp_port_range: int = _opt(2000, "How many ports above `rtp_port` calls may use.", lo=8,
                               hi=30000)
    register_expiry: int = _opt(300, "Registration lifetime in seconds.", lo=30, hi=86400)
    retry_min_seconds: float = _opt(2.0, "First retry delay after a failed registration; "
                                    "doubles each time.", lo=0.1, hi=3600)
    retry_max_seconds: float = _opt(300.0, "Longest delay between registration retries.",
                                    lo=1, hi=86400)
    tls_verify: bool = _opt(True, "Verify the server certificate on TLS.")
    srtp: str = _opt("optional", "Media encryption.", choices=("disabled", "optional",
                                                               "mandatory"))
    queue_header: str = _opt("X-Queue-Name", "SIP header of an incoming INVITE that names "
                             "the queue (service pool); absent means a direct call.")
    dtmf_method: str = _opt("rfc4733", "How keypad digits are sent.", choices=("rfc4733",
                                                                                "info"))
    caller_ids: list[str] = _opt([], "Numbers the agent may choose to show on outbound calls.")
    caller_id_method: str = _opt("p-preferred-identity", "How the chosen number is sent.",
                                 choices=("p-preferred-identity", "from-user"))
    call_waiting: bool = _opt(True, "Ring a second incoming call while in a call "
                              "(otherwise it gets 486 Busy Here).")
    auto_answer: bool = _opt(False, "Answer incoming calls by themselves.")
    auto_answer_delay: float = _opt(0.0, "Seconds to ring before auto-answering.", lo=0,
                                    hi=120)
    auto_answer_only_when_requested: bool = _opt(
        False, "Auto-answer only when the INVITE asks for it (`Call-Info: ...;answer-after=N` "
        "or `Alert-Info: ...auto answer`).")
    max_ring_seconds: float = _opt(
        120.0, "Longest an incoming call may ring (call waiting included): then it is ended "
        "with 480 and logged as missed, so INVITEs whose caller never cancels cannot use up "
        "the phone's call slots. An auto-answer call that arrived as call waiting is "
        "answered once the line is free (no other call up or held) if it is still ringing.",
        lo=1, hi=3600)
    user_agent: str = _opt("Switchboard", "User-Agent header value.")


@dataclass
class PhoneSettings:
    default_region: str = _opt("FI", "Country (ISO 3166 alpha-2) assumed for numbers written "
                               "without a country code.")
    audio: str = _opt("auto", "`auto`: calls play and capture through the OS sound system "
                      "(the devices in `[audio]`); `null`: never open a sound device (calls "
                      "connect but are silent; for servers and deterministic tests).",
                      choices=("auto", "null"))


@dataclass
class AudioSettings:
    microphone: str = _opt("", "Microphone, by its name as the OS shows it (e.g. `Jabra Evolve "
                           "40 Mono`); empty: the system default, following it as it changes.")
    speaker: str = _opt("", "Device the call is heard on (headset or speakers), by name; "
                        "empty: the system default.")
    ringer: str = _opt("", "Device the ringtone plays on (e.g. the laptop's speakers while "
                       "the call is on a headset), by name; empty: the system default.")
    microphone_volume: float = _opt(1.0, "Microphone gain, 0.0–1.0.", lo=0.0, hi=1.0)
    speaker_volume: float = _opt(1.0, "Call and tone volume in the headset, 0.0–1.0.",
                                 lo=0.0, hi=1.0)
    ringer_volume: float = _opt(1.0, "Ringtone volume, 0.0–1.0.", lo=0.0, hi=1.0)
    keypad_tones: bool = _opt(True, "Play a short tone for each key pressed in a call.")
    echo_cancellation: str = _opt("system", "`system`: ask the OS for its echo canceller "
                                  "(PulseAudio/PipeWire `module-echo-cancel` through the "
                                  "stream role `phone`); `off`: none (headsets need none).",
                                  choices=("system", "off"))


@dataclass
class RecordingSettings:
    auto: str = _opt("off", "Record calls by themselves once answered: `off`, `all` calls, or "
                     "`queue` calls only. The agent can always start, pause and stop a "
                     "recording on the call card.", choices=("off", "all", "queue"))
    retention_days: int = _opt(90, "Delete recordings older than this many days (checked at "
                               "start and daily); 0 keeps them for ever.", lo=0, hi=36500)
    announcement: str = _opt("beep", "Played to the far end when a recording starts, where "
                             "the law asks callers to be told: `beep` (the built-in beep "
                             "pattern), `none`, or the path of a WAV file (16-bit mono).")


@dataclass
class UiSettings:
    language: str = _opt("system", "UI language.", choices=("system", "en", "fi"))
    start_hidden: bool = _opt(False, "Start in the tray without showing the window.")


@dataclass
class LogSettings:
    level: str = _opt("info", "Log level.", choices=("debug", "info", "warning", "error"))
    sip_trace: bool = _opt(False, "Write SIP messages to the log (headers only, "
                           "Authorization redacted).")


@dataclass
class CrmSettings:
    backend: str = _opt("local", "Which CRM identifies callers and receives call logs; "
                        "`local` is the built-in one (crm.sqlite3 in the profile).",
                        choices=("local", "salesforce", "dynamics"))
    workflow: str = _opt("case_dialog", "What happens when a call rings or is answered: "
                         "`case` creates and opens a case on answer; `case_dialog` opens a "
                         "dialog to choose or create a case; `contact_account` / "
                         "`contact_lead` pop the matching contact or a dialog; "
                         "`phone_call` pops the contact and logs a call activity.",
                         choices=("case", "case_dialog", "contact_account", "contact_lead",
                                  "phone_call"))
    save_call_info_on_case: bool = _opt(False, "Write the call details onto the chosen case "
                                        "instead of logging a separate call activity.")
    log_missed_calls: bool = _opt(True, "Log unanswered inbound calls as activities too.")
    outbox_retry_min_seconds: float = _opt(5.0, "First retry delay for a CRM write that "
                                           "failed because the CRM was down; doubles each "
                                           "time.", lo=0.1, hi=3600)
    outbox_retry_max_seconds: float = _opt(600.0, "Longest delay between retries of a CRM "
                                           "write.", lo=1, hi=86400)
    outbox_max_attempts: int = _opt(0, "Give up on a CRM write after this many failed "
                                    "attempts (it is then shown as failed); 0 retries "
                                    "forever while the CRM is unreachable.", lo=0, hi=100000)


@dataclass
class AvailabilitySettings:
    statuses: list[str] = _opt(["Available=available", "Busy=busy", "Do not disturb=dnd",
                                "Off work=offwork", "Lunch=offwork", "Meeting=offwork"],
                               "Statuses the agent can choose, each `Name=type` where type is "
                               "`available` (pool and direct calls), `busy` (pool and direct, "
                               "shown busy), `dnd` (no calls ring; may call out) or `offwork` "
                               "(direct calls only).")
    durations_minutes: list[str] = _opt(["15", "30", "60", "120"],
                                        "Durations offered next to each status, in minutes; "
                                        "\"until changed\" is always offered too.")
    wrap_up_seconds: int = _opt(30, "Wrap-up time after an answered call before the previous "
                                "status returns; 0 turns wrap-up off.", lo=0, hi=3600)
    receive_pool_calls: bool = _opt(True, "Start with \"receive pool calls\" switched on.")


@dataclass
class ContactCenterSettings:
    backend: str = _opt("none", "Where queues, availability and callbacks live on the phone "
                        "system.", choices=("none", "sip_presence", "asterisk_ami", "enreach"))
    host: str = _opt("", "Asterisk Manager host, or for Enreach an API base URL that skips "
                     "service discovery (empty: discover).")
    port: int = _opt(5038, "Asterisk Manager TCP port.", lo=1, hi=65535)
    user: str = _opt("", "AMI user, or the Enreach user name (e-mail).")
    keyring_key: str = _opt("", "Keyring entry holding the AMI secret or Enreach API secret "
                            "key; the secret itself is never in this file.")
    interface: str = _opt("", "AMI: this agent's queue member interface, e.g. `PJSIP/1001`.")
    discovery_url: str = _opt("https://discover.enreachvoice.com", "Enreach service "
                              "discovery address.")
    poll_seconds: float = _opt(5.0, "How often queue status is polled when the backend has "
                               "no push events.", lo=1, hi=3600)
    callback_target: str = _opt("case", "What a callback request becomes in the CRM.",
                                choices=("case", "task"))
    queue_numbers: list[str] = _opt([], "AMI: each queue's public number, `Name=+E164` "
                                    "(Asterisk does not know them); shown in the dashboard "
                                    "and offered as a display number.")
    colleagues: list[str] = _opt([], "SIP presence: colleagues whose availability is shown "
                                 "(and who can be called with one click), each "
                                 "`Name=sip:user@domain`.")


@dataclass
class DynamicsSettings:
    org_url: str = _opt("", "Dynamics 365 (Dataverse) environment address, e.g. "
                        "`https://contoso.crm4.dynamics.com`; used when `crm.backend = "
                        "\"dynamics\"`.")
    tenant: str = _opt("organizations", "Entra ID tenant: its id or domain "
                       "(`contoso.onmicrosoft.com`); `organizations` lets any work account "
                       "sign in.")
    client_id: str = _opt("", "Application (client) id of the public-client app registration "
                          "the tenant admin made for Switchboard (see \"Dynamics 365\").")
    authority_host: str = _opt("login.microsoftonline.com", "Entra ID sign-in host; change it "
                               "only for a national cloud (e.g. `login.microsoftonline.us`). "
                               "Hosts Microsoft does not know are used without instance "
                               "discovery.")
    redirect_port: int = _opt(0, "Port of the sign-in redirect `http://localhost:<port>` the "
                              "browser returns to; 0 picks a free one.", lo=0, hi=65535)
    sign_in: str = _opt("browser", "`browser`: the system browser, device code if none can be "
                        "opened; `device_code`: always a code to enter on another device.",
                        choices=("browser", "device_code"))
    app_id: str = _opt("", "Model-driven app id records open in (`appid=` in the record "
                       "address); empty: the user's default app.")
    phone_fallback: bool = _opt(True, "When no record has the caller's number in E.164, look "
                                "again for other written forms (slower: scans the phone "
                                "columns of contacts, accounts and leads).")
    request_timeout_seconds: float = _opt(20.0, "Longest wait for one answer from Dynamics.",
                                          lo=1, hi=120)
    max_retry_wait_seconds: float = _opt(120.0, "Longest one request waits out Dynamics' "
                                         "service-protection `Retry-After`; after that the "
                                         "request fails as unavailable and the outbox "
                                         "retries later.", lo=0, hi=3600)
    callback_queue: str = _opt("", "Name of the Dynamics queue callback requests go to (as "
                               "open \"Callback Request\" phone calls); empty: in no queue.")


@dataclass
class SalesforceSettings:
    login_url: str = _opt("https://login.salesforce.com", "Where agents sign in: "
                          "`https://login.salesforce.com`, `https://test.salesforce.com` for a "
                          "sandbox, or the org's My Domain address; used when `crm.backend = "
                          "\"salesforce\"`.")
    client_id: str = _opt("", "Consumer key of the External Client App the org's admin made "
                          "for Switchboard (see \"Salesforce\"); not a secret.")
    redirect_port: int = _opt(53682, "Port of the sign-in callback `http://localhost:<port>/"
                              "callback`; must match the app's callback URL exactly.",
                              lo=1024, hi=65535)
    keyring_key: str = _opt("", "Keyring entry holding the refresh token; empty: "
                            "`salesforce:<client_id>`. The token itself is never in this file.")
    api_version: str = _opt("62.0", "REST API version; 62.0 is the oldest Switchboard works "
                            "with, and the org must offer it (checked at sign-in).")
    external_id_field: str = _opt("", "API name of a unique external-ID text field on Task "
                                  "(e.g. `Switchboard_Call_Id__c`); when set, call logs are "
                                  "upserted by SIP Call-ID, else looked up by `CallObject` "
                                  "before each insert.")
    recording_url_field: str = _opt("", "API name of a Task field (URL or text) for the call "
                                    "recording link; empty: the link is not written.")
    queue_wait_field: str = _opt("", "API name of a number field on Task for the seconds the "
                                 "caller waited in the queue; empty: not written.")
    trailing_digits: int = _opt(7, "Last step of the caller look-up: search the last N digits "
                                "when neither the E.164 nor the national form matched; 0 "
                                "skips the step.", lo=0, hi=15)
    timeout_seconds: float = _opt(10.0, "Longest wait for one answer from Salesforce.", lo=1,
                                  hi=120)
    quota_warning_percent: float = _opt(80.0, "Warn the agent when the org has used this "
                                        "share of its daily API requests.", lo=1, hi=100)
    omni_status_map: list[str] = _opt([], "Omni-Channel status → Switchboard availability, "
                                      "each `OmniStatus=Target`: the Omni status API name or "
                                      "label, and a status name from `availability.statuses` "
                                      "or a type (`available`, `busy`, `dnd`, `offwork`).")


@dataclass
class Settings:
    sip: SipSettings = field(default_factory=SipSettings)
    phone: PhoneSettings = field(default_factory=PhoneSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    log: LogSettings = field(default_factory=LogSettings)
    crm: CrmSettings = field(default_factory=CrmSettings)
    availability: AvailabilitySettings = field(default_factory=AvailabilitySettings)
    contactcenter: ContactCenterSettings = field(default_factory=ContactCenterSettings)
    dynamics: DynamicsSettings = field(default_factory=DynamicsSettings)
    salesforce: SalesforceSettings = field(default_factory=SalesforceSettings)


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def _check(section: str, f: dataclasses.Field[Any], hint: Any, value: Any) -> tuple[Any, str]:
    """Return (converted value, '') or (None, problem)."""
    meta = f.metadata
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            return None, f"expected true or false, got {value!r}"
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"expected a whole number, got {value!r}"
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"expected a number, got {value!r}"
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            return None, f"expected text, got {value!r}"
    elif origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, f"expected a list of text, got {value!r}"
        value = list(value)
    if meta.get("choices") and value not in meta["choices"]:
        return None, f"expected one of {', '.join(meta['choices'])}; got {value!r}"
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return None, f"expected a value from {lo:g} to {hi:g}, got {value!r}"
    return value, ""


def _section_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_dict(data: dict[str, Any]) -> tuple[Settings, list[ConfigProblem]]:
    """Build Settings from parsed TOML; bad or unknown keys become problems, not errors."""
    settings = Settings()
    problems: list[ConfigProblem] = []
    top_hints = _section_types(Settings)
    for name, raw in data.items():
        if name not in top_hints:
            problems.append(ConfigProblem(name, "unknown section (ignored)"))
            continue
        if not isinstance(raw, dict):
            problems.append(ConfigProblem(name, f"expected a [{name}] table"))
            continue
        section = getattr(settings, name)
        hints = _section_types(type(section))
        fields = {f.name: f for f in dataclasses.fields(section)}
        for key, value in raw.items():
            full = f"{name}.{key}"
            if key not in fields:
                problems.append(ConfigProblem(full, "unknown key (ignored)"))
                continue
            converted, problem = _check(name, fields[key], hints[key], value)
            if problem:
                problems.append(ConfigProblem(full, problem + "; using the default "
                                              f"{getattr(section, key)!r}"))
            else:
                setattr(section, key, converted)
    return settings, problems


def load(path: Path) -> tuple[Settings, list[ConfigProblem]]:
    """Read `path`; a missing file gives defaults, a broken one gives defaults and a problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), []
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(), [ConfigProblem(str(path), f"cannot read the file ({exc}); "
                                          "using defaults")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Settings(), [ConfigProblem(str(path), f"not valid TOML ({exc}); using defaults "
                                          "for every key")]
    return from_dict(data)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def dumps(settings: Settings) -> str:
    lines: list[str] = []
    for section_field in dataclasses.fields(settings):
        section = getattr(settings, section_field.name)
        lines.append(f"[{section_field.name}]")
        for f in dataclasses.fields(section):
            lines.append(f"{f.name} = {toml_value(getattr(section, f.name))}")
        lines.append("")
    return "\n".join(lines)


def save(settings: Settings, path: Path) -> None:
    """Write atomically so a crash mid-write never leaves a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(dumps(settings), encoding="utf-8")
    tmp.replace(path)


class ConfigSaveError(OSError):
    """config.toml could not be written; the message says why and what to do."""


def _trailing_comment(value_part: str) -> str:
    """The `  # comment` after a TOML value (quotes and brackets respected), or ""."""
    quote = ""
    escaped = False
    for i, ch in enumerate(value_part):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            j = i
            while j > 0 and value_part[j - 1] in " \t":
                j -= 1
            return value_part[j:]
    return ""


def save_section(settings: Settings, name: str, path: Path) -> None:
    """Write one section's keys into `path`, keeping every other line (comments, other
    sections, keys this version does not know, a comment after a changed value) as it
    is. Atomic like `save`. Raises ConfigSaveError, leaving the file alone, when it cannot
    be read as text or written."""
    save_sections(settings, [name], path)


def save_sections(settings: Settings, names: list[str], path: Path) -> None:
    """`save_section` for several sections at once, in one atomic write."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    except UnicodeDecodeError:
        raise ConfigSaveError(f"{path} is not UTF-8 text, so it was not changed; save it as "
                              "UTF-8 in a text editor") from None
    except OSError as exc:
        raise ConfigSaveError(f"cannot read {path}: {exc.strerror or exc}") from None
    for name in names:
        _rewrite_section(lines, settings, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigSaveError(f"cannot write {path}: {exc.strerror or exc}") from None


def _rewrite_section(lines: list[str], settings: Settings, name: str) -> None:
    """Put section `name`'s values into `lines` (the file's text), changing nothing else."""
    import re

    section = getattr(settings, name)
    values = {f.name: toml_value(getattr(section, f.name)) for f in dataclasses.fields(section)}
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines)
                  if (m := header.match(line)) and m.group(1).strip() == name), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines.append(f"[{name}]")
        lines += [f"{k} = {v}" for k, v in values.items()]
        return
    end = next((i for i in range(start + 1, len(lines)) if header.match(lines[i])
                or lines[i].lstrip().startswith("[[")), len(lines))
    seen = set()
    for i in range(start + 1, end):
        key = lines[i].split("=", 1)[0].strip()
        if "=" in lines[i] and key in values and not lines[i].lstrip().startswith("#"):
            comment = _trailing_comment(lines[i].split("=", 1)[1])
            lines[i] = f"{key} = {values[key]}{comment}"
            seen.add(key)
    missing = [f"{k} = {v}" for k, v in values.items() if k not in seen]
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    lines[end:end] = missing


def to_dict(settings: Settings) -> dict[str, dict[str, Any]]:
    """The settings as the TOML tables `from_dict` reads (for checking edited values)."""
    return {f.name: dataclasses.asdict(getattr(settings, f.name))
            for f in dataclasses.fields(settings)}


def reference() -> list[tuple[str, str, Any, str]]:
    """(key, type, default, doc) for every key: the README table is generated from this."""
    rows = []
    settings = Settings()
    for section_field in dataclasses.fields(settings):
        section = getattr(settings, section_field.name)
        hints = _section_types(type(section))
        for f in dataclasses.fields(section):
            meta = f.metadata
            doc = meta.get("doc", "")
            if meta.get("choices"):
                doc += " One of: " + ", ".join(f"`{c}`" for c in meta["choices"]) + "."
            type_name = getattr(hints[f.name], "__name__", str(hints[f.name]))
            rows.append((f"{section_field.name}.{f.name}", type_name,
                         getattr(section, f.name), doc))
    return rows
