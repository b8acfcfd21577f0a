"""Set up a demo profile (built-in CRM with sample customers, direct SIP on loopback) and run."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from app import config
from app.core.crm import NewCase
from app.crm.local.csv_io import import_csv
from app.crm.local.store import LocalStore
from app.paths import Profile

log = logging.getLogger(__name__)

AGENT_USER = "agent"
SAMPLE_CASES = (
    ("Delivery to Tampere is late", "Pallets promised for Monday have not arrived."),
    ("Invoice 2026-1187 has the wrong VAT", ""),
    ("New pick-up address from December", "Warehouse moves to Vantaa."),
)


def demo_profile(given: Path | None) -> Profile:
    return Profile.at(given) if given else Profile.at(Profile.default().data_dir / "demo")


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def seed_crm(profile: Profile, region: str) -> None:
    """Fill an empty built-in CRM with the sample customers (once per profile)."""
    store = LocalStore(profile.db_path("crm"), region=region)
    try:
        if store.counts()["contacts"]:
            return
        with resources.as_file(resources.files("app.demo") / "contacts.csv") as csv_path:
            report = import_csv(store, csv_path)
        log.info("demo CRM: %s", report.summary())
        aino = store.identify("+358401234567").contacts[0]
        for subject, description in SAMPLE_CASES:
            store.create_case(NewCase(subject, description, contact_id=aino.id))
    finally:
        store.close()


def demo_settings(profile: Profile) -> tuple[config.Settings, list[config.ConfigProblem]]:
    """The saved demo config (created on first run); the SIP port is picked afresh."""
    settings, problems = config.load(profile.config_path)
    if not profile.config_path.exists():
        settings.sip.mode = "direct"
        settings.sip.username = AGENT_USER
        settings.sip.display_name = "Demo Agent"
        settings.sip.listen_address = "127.0.0.1"
        settings.sip.srtp = "disabled"
        settings.crm.workflow = "contact_account"
        settings.contactcenter.backend = "none"
        config.save(settings, profile.config_path)
    settings.sip.port = free_udp_port()
    return settings, problems


def start_caller(port: int, extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    # Through our own command, so it works from a frozen (PyInstaller) build too.
    me = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "app"]
    cmd = [*me, "demo-caller", "--target",
           f"sip:{AGENT_USER}@127.0.0.1:{port}", "--parent-pid", str(os.getpid()), *extra]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def run_demo(profile: Profile, caller_args: Sequence[str] = ()) -> int:
    from app.compose import run_app  # Qt only once we know we run the UI

    profile.ensure()
    settings, problems = demo_settings(profile)
    seed_crm(profile, settings.phone.default_region)
    log.info("demo: agent listens on sip:%s@127.0.0.1:%d; profile %s", AGENT_USER,
             settings.sip.port, profile.root)
    caller = start_caller(settings.sip.port, caller_args)
    try:
        return run_app(profile, settings, problems=problems, argv=[sys.argv[0]])
    finally:
        caller.terminate()
        try:
            caller.wait(5)
        except subprocess.TimeoutExpired:
            caller.kill()
