"""The real app process against a fake Dynamics 365 (Dataverse) and a fake Entra ID.

`switchboard crm login --device-code` runs as a process and the test completes the sign-in
on the fake authority as the agent would on another device; the app process then uses the
saved sign-in (the token cache in the profile, a 0600 file here: no secret service). SIPp
rings the app; the fake Dataverse sees every request, including the model-driven app's
pages the embedded web view opens (`main.aspx`), so the test asserts what was popped and
what was written: the exact phone call, its parties and direction, exactly once.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app import config
from app.crm.dynamics import records
from app.crm.dynamics.factory import TOKEN_CACHE_NAME
from app.paths import Profile
from tests.app_process import REPO, AppProcess, app_env, make_profile, run_cmd
from tests.app_process import processes as processes  # the fixture, re-exported here
from tests.fakes.dataverse import FakeDataverse
from tests.fakes.entra_id import FakeEntraId
from tests.integration.conftest import Sipp, free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp is not installed"),
]

CALLER = "+358401234567"  # the number in the SIPp scenarios' From
OTHER = "+358501112233"
WAIT = 60.0


@pytest.fixture
def entra() -> Iterator[FakeEntraId]:
    server = FakeEntraId().start()
    yield server
    server.stop()


@pytest.fixture
def dataverse(entra: FakeEntraId) -> Iterator[FakeDataverse]:
    server = FakeDataverse(accept_token=entra.is_valid_access_token).start()
    yield server
    server.stop()


def env(entra: FakeEntraId) -> dict[str, str]:
    """The app's environment: the fake authority's certificate is trusted (requests only)."""
    return app_env(REQUESTS_CA_BUNDLE=str(entra.cert_path))


def dynamics_profile(root: Path, entra: FakeEntraId, dataverse: FakeDataverse, *,
                     port: int = 0, workflow: str = "phone_call",
                     configure: Callable[[config.Settings], None] | None = None) -> Profile:
    def settings(s: config.Settings) -> None:
        s.crm.backend = "dynamics"
        s.crm.workflow = workflow
        s.crm.outbox_retry_min_seconds = 0.2
        s.crm.outbox_retry_max_seconds = 1.0
        d = s.dynamics
        d.org_url, d.tenant, d.client_id = dataverse.org_url, entra.tenant, entra.client_id
        d.authority_host, d.sign_in = entra.host, "device_code"
        if configure is not None:
            configure(s)

    return make_profile(root, port=port or free_port(), configure=settings)


def sign_in(profile: Profile, entra: FakeEntraId) -> str:
    """`switchboard crm login --device-code`, completed on the fake authority; its output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--profile", str(profile.root), "crm", "login",
         "--device-code"], cwd=REPO, env=env(entra), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the message the authority wrote, with the code in it
    code = re.search(r"enter the code (\w+)", first)
    assert code is not None, first + proc.communicate(timeout=WAIT)[1]
    entra.approve_device_code(code.group(1))
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    return first + out


def test_crm_login_with_a_device_code_saves_the_sign_in_for_the_app(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse) -> None:
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse)
    out = sign_in(profile, entra)
    assert "Signed in to Dynamics 365" in out and entra.username in out
    cache = profile.data_dir / TOKEN_CACHE_NAME
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert entra.grant_types() == ["urn:ietf:params:oauth:grant-type:device_code"]

    logout = subprocess.run(
        [sys.executable, "-m", "app", "--profile", str(profile.root), "crm", "logout"],
        cwd=REPO, env=env(entra), capture_output=True, text=True, timeout=WAIT)
    assert logout.returncode == 0, logout.stderr
    assert f"Signed out of Dynamics 365 ({entra.username})" in logout.stdout
    assert entra.username.encode() not in cache.read_bytes()


# -- helpers for the app-process tests --------------------------------------------------------


def pages(dataverse: FakeDataverse, etn: str) -> list[dict[str, str]]:
    """The model-driven app pages of table `etn` the embedded web view asked for."""
    out = []
    for r in list(dataverse.requests):
        if r["path"] == "/main.aspx" and r["query"].get("etn") == etn:
            out.append(r["query"])
    return out


def wait_for(what: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll `what` (a fake's state, read under its lock) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        time.sleep(0.1)


def secrets_in(profile: Profile, entra: FakeEntraId) -> list[str]:
    """Files of the profile (config, logs, databases) holding a token the authority issued."""
    with entra.lock:
        tokens = [*entra.access_tokens, *entra.refresh_tokens]
    found = []
    for path in profile.root.rglob("*"):
        if not path.is_file() or path.name == TOKEN_CACHE_NAME:
            continue
        data = path.read_bytes()
        found += [f"{path.name}: {t[:6]}…" for t in tokens if t.encode() in data]
    return found


__all__ = ["AppProcess", "Sipp", "os", "parse_qs", "records", "run_cmd", "scenario",
           "urlsplit"]
