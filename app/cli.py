"""The `switchboard` command: run (default), dial, crm import/export, doctor, demo, …"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__, config, logs
from app.paths import Profile

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Desktop softphone for contact-centre agents.")
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="keep config, databases and logs under DIR")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="json: one JSON object per line, one per call event")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                        help="overrides log.level from config.toml")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="start the phone (the default)")
    sub.add_parser("doctor", help="check the profile, config, keyring and SIP stack")
    sub.add_parser("config-reference", help="print every config key with its default")

    pw = sub.add_parser("set-password", help="store the SIP password in the keyring")
    pw.add_argument("--stdin", action="store_true",
                    help="read the password from standard input instead of prompting")
    return parser


def load_settings(profile: Profile) -> tuple[config.Settings, list[config.ConfigProblem]]:
    settings, problems = config.load(profile.config_path)
    for problem in problems:
        log.warning("config.toml: %s", problem)
    return settings, problems


def _cmd_run(args: argparse.Namespace, profile: Profile) -> int:
    settings, problems = load_settings(profile)
    from app.application import run_app  # Qt is imported only when the UI is wanted

    return run_app(profile, settings, problems=problems, argv=[sys.argv[0]])


def _cmd_doctor(args: argparse.Namespace, profile: Profile) -> int:
    from app import secrets

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
    try:
        has = secrets.get_sip_password(settings.sip) is not None
        print(f"keyring:  {'password stored' if has else 'no SIP password stored'}")
    except secrets.SecretStoreUnavailable as exc:
        ok = False
        print(f"keyring:  {exc}")
    try:
        import pjsua2  # noqa: F401  (only checking that the SIP stack loads)

        print("sip:      pjsua2 loads")
    except ImportError as exc:
        ok = False
        print(f"sip:      pjsua2 does not load ({exc}); reinstall with "
              "`pip install pjsua2-python` on Python 3.10–3.12")
    return 0 if ok else 1


def _cmd_config_reference(args: argparse.Namespace, profile: Profile) -> int:
    for key, type_name, default, doc in config.reference():
        print(f"{key} ({type_name}, default {default!r}): {doc}")
    return 0


def _cmd_set_password(args: argparse.Namespace, profile: Profile) -> int:
    from app import secrets

    settings, _ = config.load(profile.config_path)
    key = secrets.sip_key(settings.sip)
    if not key:
        print("Set sip.username (and sip.server or sip.keyring_key) in "
              f"{profile.config_path} first.", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.stdin else getpass.getpass(
        f"SIP password for {key}: ")
    try:
        secrets.set_password(key, password)
    except secrets.SecretStoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Stored the password for {key} in the keyring.")
    return 0


COMMANDS = {
    None: _cmd_run,
    "run": _cmd_run,
    "doctor": _cmd_doctor,
    "config-reference": _cmd_config_reference,
    "set-password": _cmd_set_password,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    profile = (Profile.at(args.profile) if args.profile else Profile.default()).ensure()
    settings, _ = config.load(profile.config_path)
    logs.setup(profile.log_dir, level=args.log_level or settings.log.level, fmt=args.log_format,
               stderr=args.command not in ("config-reference", "doctor"))
    try:
        return COMMANDS[args.command](args, profile)
    except KeyboardInterrupt:
        return 130
