"""The `switchboard` command: run (default), dial, crm import/export, doctor, demo, …"""

from __future__ import annotations

import argparse
import functools
import getpass
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app import __version__, config, logs
from app.paths import Profile

if TYPE_CHECKING:
    from app.secrets import SecretStore

log = logging.getLogger(__name__)


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """Options valid before and after the subcommand (`switchboard demo --profile X`)."""
    default = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", type=Path, metavar="DIR", default=default,
                        help="keep config, databases and logs under DIR")
    common.add_argument("--log-format", choices=("text", "json"),
                        default=default if suppress else "text",
                        help="json: one JSON object per line, one per call event")
    common.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        default=default, help="overrides log.level from config.toml")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Desktop softphone for contact-centre agents.",
        parents=[_common_options(suppress=False)])
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options(suppress=True)
    add = functools.partial(sub.add_parser, parents=[common])


    add("run", help="start the phone (the default)")
    doctor = add("doctor", help="check the profile, config, keyring, account, CRM, SIP stack "
                 "and sound; exit 1 with the fix when the phone cannot start")
    doctor.add_argument("--offline", action="store_true",
                        help="do not send the test REGISTER to the phone system")
    add("config-reference", help="print every config key with its default")

    dial = add("dial", help="dial a tel:/sip:/callto: link or a number "
                          "(hands it to the running instance, or starts one)")
    dial.add_argument("link", help="e.g. tel:+358401234567, sip:alice@example.com, 040 123 4567")
    add("register-handler", help="open tel:, sip: and callto: links with "
                   "Switchboard for the current user")

    crm = add("crm", help="the built-in CRM; sign-in to an outside one")
    crm_sub = crm.add_subparsers(dest="crm_command", metavar="ACTION", required=True)
    crm_add = functools.partial(crm_sub.add_parser, parents=[common])
    imp = crm_add("import", help="import contacts, accounts and leads from CSV")
    imp.add_argument("file", type=Path, help="CSV file; columns are listed in the README")
    exp = crm_add("export", help="export contacts, accounts and leads as CSV")
    exp.add_argument("--out", type=Path, help="file to write (default: standard output)")
    login = crm_add(
        "login", help="sign in to the CRM `crm.backend` names (Salesforce or Dynamics 365)",
        description="Sign in to the outside CRM `crm.backend` names, in the system browser "
        "(or with a code on another device). Salesforce needs salesforce.client_id, Dynamics "
        "365 dynamics.org_url and dynamics.client_id in config.toml (the README says what "
        "the admin sets up). The sign-in is saved for the app; no password is stored.")
    login.add_argument("--device-code", "--device", action="store_true",
                       help="sign in with a code entered on another device, not a browser")
    crm_add("logout", help="forget the saved sign-in to the outside CRM",
            description="Forget the saved sign-in to the outside CRM (Salesforce: also "
            "revoke it in the org and delete the Salesforce web profile).")

    demo = add("demo", help="run with a sample built-in CRM and a simulated "
                          "caller (profile: the per-user data folder's demo/, or --profile)")
    demo.add_argument("--caller-arg", action="append", default=[], metavar="ARG",
                      help=argparse.SUPPRESS)  # timing knobs for tests

    pw = add("set-password", help="store the SIP password in the keyring")
    pw.add_argument("--stdin", action="store_true",
                    help="read the password from standard input instead of prompting")
    return parser


def load_settings(profile: Profile) -> tuple[config.Settings, list[config.ConfigProblem]]:
    settings, problems = config.load(profile.config_path)
    for problem in problems:
        log.warning("config.toml: %s", problem)
    return settings, problems


def display_problem(env: Mapping[str, str], platform: str) -> str:
    """Why the window cannot open here ("" when it can). On Linux without a display
    (an ssh session, a service) Qt's platform plugin aborts the process; say so instead."""
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return ""  # macOS and Windows always have one; a chosen Qt platform is trusted
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return ""
    return ("there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are "
            "not set). Run it in your desktop session")


def _cmd_run(args: argparse.Namespace, profile: Profile) -> int:
    problem = display_problem(os.environ, sys.platform)
    if problem:
        print(f"switchboard: {problem}.", file=sys.stderr)
        return 1
    settings, problems = load_settings(profile)
    from app.compose import run_app  # Qt is imported only when the UI is wanted

    return run_app(profile, settings, problems=problems, argv=[sys.argv[0]])


def _cmd_dial(args: argparse.Namespace, profile: Profile) -> int:
    from app.desktop.launch import dial_command

    settings, problems = load_settings(profile)

    def start_app(target: object) -> int:
        problem = display_problem(os.environ, sys.platform)
        if problem:  # no running Switchboard took the link, and none can start here
            print(f"switchboard dial: Switchboard is not running and cannot start: "
                  f"{problem}, then dial again.", file=sys.stderr)
            return 1
        from app.compose import run_app

        return run_app(profile, settings, problems=problems, argv=[sys.argv[0]],
                       dial=target.as_link())  # type: ignore[attr-defined]

    return dial_command(args.link, profile.config_dir, settings.phone.default_region,
                        start_app)


def _cmd_register_handler(args: argparse.Namespace, profile: Profile) -> int:
    from app.desktop.launch import register_handler_command
    from app.desktop.register_handler import default_command

    command = default_command()  # the frozen binary, the installed script, or -m app
    if args.profile:
        command += ["--profile", str(profile.root)]
    return register_handler_command(command)


class _ProgressBar:
    """A one-line progress bar on stderr for long imports (only on a terminal)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(1.0, done / total)
        bar = "#" * int(frac * 30)
        print(f"\r[{bar:<30}] {frac:4.0%}", end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def _cmd_crm_sign_in(args: argparse.Namespace, profile: Profile) -> int:
    settings, _ = config.load(profile.config_path)
    if settings.crm.backend == "dynamics":
        from app.crm.dynamics import login

        if args.crm_command == "login":
            return login.login(settings, profile, device_code=args.device_code)
        return login.logout(settings, profile)
    if settings.crm.backend == "salesforce":
        from app.crm.salesforce import login as salesforce
        from app.secrets import KeyringSecretStore

        store = KeyringSecretStore()  # the refresh token lives in the system keyring only
        if args.crm_command == "login":
            return salesforce.login(settings, store, device=args.device_code, out=sys.stdout)
        from app.crm.salesforce.web import web_dir

        return salesforce.logout(settings, store, out=sys.stdout,
                                 web_dir=web_dir(profile.data_dir))
    print(f"switchboard crm {args.crm_command}: crm.backend is {settings.crm.backend!r}, "
          "which has no sign-in here.", file=sys.stderr)
    return 2


def _cmd_crm(args: argparse.Namespace, profile: Profile) -> int:
    if args.crm_command in ("login", "logout"):
        return _cmd_crm_sign_in(args, profile)
    from app.core.crm import CrmError
    from app.crm.local.csv_io import export_csv, import_csv
    from app.crm.local.store import LocalStore

    settings, _ = config.load(profile.config_path)
    store = LocalStore(profile.db_path("crm"), region=settings.phone.default_region)
    try:
        if args.crm_command == "import":
            bar = _ProgressBar()
            try:
                report = import_csv(store, args.file, progress=bar)
            finally:
                bar.finish()
            for problem in report.skipped:
                print(f"{args.file}: {problem}", file=sys.stderr)
            print(report.summary())
            return 0 if not report.skipped else 1
        if args.out:
            count = export_csv(store, args.out)
            print(f"Exported {count} records to {args.out}.", file=sys.stderr)
        else:
            export_csv(store, sys.stdout)
        return 0
    except CrmError as exc:
        print(f"switchboard crm {args.crm_command}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


def _cmd_demo(args: argparse.Namespace, profile: Profile) -> int:
    from app.demo.run import run_demo

    return run_demo(profile, args.caller_arg)


def _cmd_doctor(args: argparse.Namespace, profile: Profile, secrets: SecretStore) -> int:
    from app.secrets import NO_BACKEND_HELP, SecretStoreUnavailable, get_sip_password

    ok = True
    print(f"switchboard {__version__}")
    print(f"config:   {profile.config_path}"
          f"{'' if profile.config_path.exists() else ' (not created yet: defaults)'}")
    print(f"data:     {profile.data_dir}")
    print(f"logs:     {profile.log_dir}")
    settings, problems = config.load(profile.config_path)
    for problem in problems:
        ok = False
        print(f"config problem: {problem}")
    password: str | None = None
    try:
        usable = getattr(secrets, "usable", None)
        if usable is not None and not usable():
            raise SecretStoreUnavailable(NO_BACKEND_HELP)
        password = get_sip_password(secrets, settings.sip)
        print(f"keyring:  {'password stored' if password else 'no SIP password stored'}")
    except SecretStoreUnavailable as exc:
        ok = False
        print(f"keyring:  {exc}")
    ok = _doctor_account(settings, password, args.offline) and ok
    ok = _doctor_crm(settings, profile, secrets) and ok
    try:
        from app.telephony import stack_version

        print(f"sip:      pjsua2 loads (PJSIP {stack_version()})")
    except ImportError as exc:
        ok = False
        print(f"sip:      pjsua2 does not load ({exc}); reinstall with "
              "`pip install pjsua2-python` on Python 3.10–3.12")
    if settings.phone.audio == "null":
        print("audio:    off (phone.audio = \"null\"): calls are silent")
    else:
        ok = _doctor_audio(settings, profile) and ok
    return 0 if ok else 1


# What a connection test's outcome means, and what to do about it (doctor's words).
_PROBE_FIX = {
    "unknown_host": "the phone system's name does not resolve: check sip.server",
    "unreachable": "the phone system cannot be reached: check sip.server, sip.transport "
                   "and the network (VPN, firewall)",
    "no_answer": "the phone system does not answer: check sip.server's address and port, "
                 "sip.transport and the firewall",
    "tls_failed": "the TLS connection failed: check the server's certificate and "
                  "sip.transport",
    "wrong_password": "the phone system refused the user or password: check sip.username, "
                      "sip.auth_username, and `switchboard set-password`",
    "no_password": "the phone system asks for a password: `switchboard set-password`",
    "unknown_user": "the phone system does not know this user: check sip.username",
}


def _doctor_account(settings: config.Settings, password: str | None, offline: bool) -> bool:
    """The SIP account: set up (a server and a user in registrar mode) and, unless
    `offline`, one REGISTER to the server (app/telephony/register_probe.py)."""
    from app.core.account_check import ProbeOutcome, account_problems

    sip = settings.sip
    if sip.mode != "registrar":
        print("account:  direct mode (no registrar)")
        return True
    problems = account_problems(sip)
    for problem in problems:
        print(f"account:  {problem}; set it in the settings dialog or config.toml")
    if problems:
        return False
    if offline:
        print(f"account:  {sip.username} at {sip.server} (not tested: --offline)")
        return True
    from app.telephony.register_probe import probe_registration

    result = probe_registration(sip, password)
    if result.outcome is ProbeOutcome.REGISTERED:
        print(f"account:  {sip.username} registers at {sip.server}")
        return True
    answer = f" ({result.code} {result.reason})".rstrip() if result.code else ""
    detail = f"; {result.detail}" if result.detail else ""
    fix = _PROBE_FIX.get(result.outcome.value, result.outcome.value.replace("_", " "))
    print(f"account:  {sip.username} at {sip.server} does not register{answer}{detail}: "
          f"{fix}")
    return False


def _doctor_crm(settings: config.Settings, profile: Profile, secrets: SecretStore) -> bool:
    """The CRM backend chosen can be built (an unknown name is a config problem); for an
    outside CRM also whether a sign-in is saved (not being signed in does not stop calls)."""
    crm = settings.crm.backend
    missing: list[str] = []
    section = ""
    if crm == "salesforce":
        missing = [k for k in ("client_id",) if not getattr(settings.salesforce, k)]
        section = "salesforce"
    elif crm == "dynamics":
        missing = [k for k in ("org_url", "client_id") if not getattr(settings.dynamics, k)]
        section = "dynamics"
    if missing:
        keys = ", ".join(f"{section}.{k}" for k in missing)
        print(f"crm:      {crm} is chosen but {keys} is empty; ask your CRM admin for it")
        return False
    print(f"crm:      {crm}" + (" (built-in, crm.sqlite3 in the data folder)"
                                if crm == "local" else ""))
    if crm == "salesforce":
        from app.crm.salesforce.login import sign_in_state

        print(f"crm:      {sign_in_state(settings, secrets)}")
    elif crm == "dynamics":
        from app.crm.dynamics.login import sign_in_state as dynamics_state

        print(f"crm:      {dynamics_state(profile)}")
    return True


def _doctor_audio(settings: config.Settings, profile: Profile) -> bool:
    from app.audio.report import last_counters, probe_devices

    lines, ok = probe_devices(settings.audio)
    for line in lines:
        print(f"audio:    {line}")
    counters = last_counters(profile.log_dir / "switchboard.log")
    if counters is None:
        print("audio:    no call with sound logged yet")
    else:
        shown = ", ".join(f"{k} {v}" for k, v in counters.items() if k != "ts")
        print(f"audio:    last call ({counters.get('ts')}): {shown}")
    return ok


def _cmd_config_reference(args: argparse.Namespace, profile: Profile) -> int:
    for key, type_name, default, doc in config.reference():
        print(f"{key} ({type_name}, default {default!r}): {doc}")
    return 0


def _cmd_set_password(args: argparse.Namespace, profile: Profile,
                      secrets: SecretStore) -> int:
    from app.secrets import SecretStoreUnavailable, sip_key

    settings, _ = config.load(profile.config_path)
    key = sip_key(settings.sip)
    if not key:
        print("Set sip.username (and sip.server or sip.keyring_key) in "
              f"{profile.config_path} first.", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.stdin else getpass.getpass(
        f"SIP password for {key}: ")
    try:
        secrets.set(key, password)
    except SecretStoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Stored the password for {key} in the keyring.")
    return 0


COMMANDS = {
    None: _cmd_run,
    "run": _cmd_run,
    "config-reference": _cmd_config_reference,
    "dial": _cmd_dial,
    "register-handler": _cmd_register_handler,
    "crm": _cmd_crm,
    "demo": _cmd_demo,
}
SECRET_COMMANDS = {  # the commands that read or write secrets get the secret store
    "doctor": _cmd_doctor,
    "set-password": _cmd_set_password,
}


def main(argv: Sequence[str] | None = None, *, secrets: SecretStore | None = None) -> int:
    """`secrets`: where secrets are kept (the system keyring unless a test passes one)."""
    from app.desktop.launch import rewrite_link_argv  # `switchboard tel:...` from a desktop

    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["demo-caller"]:  # the demo's child process (see app/demo/run.py)
        from app.demo.caller import main as caller_main

        return caller_main(raw[1:])
    args = build_parser().parse_args(rewrite_link_argv(raw))
    if args.command == "demo":
        from app.demo.run import demo_profile

        profile = demo_profile(args.profile).ensure()
    else:
        profile = (Profile.at(args.profile) if args.profile else Profile.default()).ensure()
    settings, _ = config.load(profile.config_path)
    logs.setup(profile.log_dir, level=args.log_level or settings.log.level, fmt=args.log_format,
               stderr=args.command not in ("config-reference", "doctor", "crm"))
    try:
        if args.command in SECRET_COMMANDS:
            from app.secrets import KeyringSecretStore

            store = secrets if secrets is not None else KeyringSecretStore()
            return SECRET_COMMANDS[args.command](args, profile, store)
        return COMMANDS[args.command](args, profile)
    except KeyboardInterrupt:
        return 130
