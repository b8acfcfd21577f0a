"""The real app process against a fake Dynamics 365 (Dataverse) and a fake Entra ID.

`switchboard crm login --device-code` runs as a process and the test completes the sign-in
on the fake authority as the agent would on another device; the app process then uses the
saved sign-in (the token cache in the profile, a 0600 file here: no secret service). SIPp
rings the app; the fake Dataverse sees every request, including the model-driven app's
pages the embedded web view opens (`main.aspx`), so the test asserts what was popped and
what was written: the exact phone call, its parties and direction, exactly once.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

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
                     port: int = 0, sipp_port: int = 0, workflow: str = "phone_call",
                     configure: Callable[[config.Settings], None] | None = None) -> Profile:
    def settings(s: config.Settings) -> None:
        s.crm.backend = "dynamics"
        s.crm.workflow = workflow
        s.crm.outbox_retry_min_seconds = 0.2
        s.crm.outbox_retry_max_seconds = 1.0
        s.availability.wrap_up_seconds = 0  # the next test call rings at once
        d = s.dynamics
        d.org_url, d.tenant, d.client_id = dataverse.org_url, entra.tenant, entra.client_id
        d.authority_host, d.sign_in = entra.host, "device_code"
        if configure is not None:
            configure(s)

    return make_profile(root, port=port or free_port(), sipp_port=sipp_port,
                        configure=settings)


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


def answering(s: config.Settings) -> None:
    """The agent answers after a second of ringing (the lookup has its answer by then)."""
    s.sip.auto_answer, s.sip.auto_answer_delay = True, 1.0


def running(processes: Callable[..., AppProcess], profile: Profile,
            entra: FakeEntraId) -> AppProcess:
    app = processes(run_cmd(profile), env(entra))
    app.event("registration")  # the engine is up
    return app


def port_of(profile: Profile) -> int:
    return config.load(profile.config_path)[0].sip.port


def inbound(sipp: Callable[..., Sipp], tmp_path: Path, profile: Profile, name: str,
            number: str = CALLER, **subs: str) -> Sipp:
    path = scenario(tmp_path, name, **subs)
    path.write_text(path.read_text().replace(CALLER, number))
    return sipp(path, f"127.0.0.1:{port_of(profile)}")


def party_masks(dataverse: FakeDataverse, activity_id: str) -> dict[str, int]:
    with dataverse.lock:
        parties = list(dataverse.parties.get(activity_id, []))
    return {f"{p['entity']}/{p['partyid']}": p["participationtypemask"] for p in parties}


def test_one_match_pops_the_contact_and_the_exact_phone_call_is_logged_once(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    aino = dataverse.add_contact("Aino", "Virtanen", CALLER)
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, configure=answering)
    sign_in(profile, entra)
    app = running(processes, profile, entra)
    peer = inbound(sipp, tmp_path, profile, "uac_remote_bye", HOLD_MS="2500")
    popped = app.event("popped")
    assert popped["path"].startswith(f"{dataverse.org_url}/main.aspx?")
    assert wait_for(lambda: pages(dataverse, "contact")) == [
        {"pagetype": "entityrecord", "etn": "contact", "id": aino}]
    assert peer.wait() == 0, peer.output()
    logged = app.event("crm_logged", call_id=popped["call_id"])
    activity_id = records.activity_id(popped["call_id"])
    assert logged["activity"] == activity_id

    [(key, call)] = dataverse.records("phonecalls").items()
    assert key == activity_id
    assert call["subject"] == "Call from Test Caller via Sales"
    assert call["phonenumber"] == CALLER
    assert call["directioncode"] is False
    assert (call["statecode"], call["statuscode"]) == (1, 4)  # Completed, Received
    assert call["_regardingobjectid_value"] == aino
    assert call["actualdurationminutes"] == 1
    notes, lines = records.parse_description(call["description"])
    assert (notes, lines["Result"], lines["Queue"], lines["Call-ID"]) == (
        "", "answered", "Sales", popped["call_id"])
    assert party_masks(dataverse, activity_id) == {f"contact/{aino}": 1,
                                                   f"systemuser/{dataverse.user_id}": 2}
    app.stop()
    assert secrets_in(profile, entra) == []


def new_event(app: AppProcess, name: str, old_calls: set[str]) -> dict[str, Any]:
    """The first `name` event of a call not in `old_calls` (waiting for it)."""
    deadline = time.monotonic() + WAIT
    while True:
        for line in app.log.seen:
            if line.get("event") == name and line.get("call_id") not in old_calls:
                return line
        assert time.monotonic() < deadline, f"no new {name}"
        with contextlib.suppress(AssertionError):  # waiting reads the lines that came
            app.event(name, timeout=1, call_id="none yet")


def form_values(query: dict[str, str]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query["extraqs"]).items()}


def test_nobody_or_several_and_nobody_picked_end_in_the_pre_filled_phone_call_form(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    dataverse.add_contact("Liisa", "Mäkinen", CALLER)
    dataverse.add_lead("Jussi", "Mäkinen", "Mäkinen Oy", CALLER)
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, configure=answering)
    sign_in(profile, entra)
    app = running(processes, profile, entra)

    before: set[str] = set()
    for number, heading in ((OTHER, "nobody"), (CALLER, "two matches")):
        peer = inbound(sipp, tmp_path, profile, "uac_remote_bye", number, HOLD_MS="2500")
        popped = new_event(app, "popped", before)  # our dialog, from the API's answers
        assert popped["path"] == "dialog"
        before = {popped["call_id"]}
        assert peer.wait() == 0, peer.output()
        app.event("crm_call_form", call_id=popped["call_id"])
        forms = wait_for(lambda n=number: [q for q in pages(dataverse, "phonecall")
                                           if form_values(q)["phonenumber"] == n])
        assert len(forms) == 1, heading
        values = form_values(forms[0])
        assert values["subject"] == "Call from Test Caller via Sales"
        assert values["directioncode"] == "0"
        assert "id" not in forms[0]  # a new phone call, for the agent to complete and save
        assert records.parse_description(values["description"])[1]["Call-ID"] == \
            popped["call_id"]
    assert dataverse.records("phonecalls") == {}  # nothing written behind the agent's back
    assert not any(s.get("event") == "crm_queued" for s in app.log.seen)


def test_an_outbound_call_from_the_dial_command_is_logged_made_with_parties_swapped(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    aino = dataverse.add_contact("Aino", "Virtanen", CALLER)
    far = sipp(scenario(tmp_path, "uas_busy"))
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, sipp_port=far.port)
    sign_in(profile, entra)
    app = running(processes, profile, entra)
    dial = subprocess.run([sys.executable, "-m", "app", "--profile", str(profile.root),
                           "dial", f"tel:{CALLER}"], cwd=REPO, env=env(entra),
                          capture_output=True, text=True, timeout=WAIT)
    assert dial.returncode == 0, dial.stderr
    logged = app.event("crm_logged")
    assert far.wait() == 0, far.output()
    [call] = dataverse.records("phonecalls").values()
    assert call["activityid"] == logged["activity"]
    assert call["directioncode"] is True
    assert (call["statecode"], call["statuscode"]) == (1, 2)  # Completed, Made
    assert call["phonenumber"] == CALLER
    assert call["_regardingobjectid_value"] == aino
    assert records.parse_description(call["description"])[1]["Result"] == "busy"
    assert party_masks(dataverse, call["activityid"]) == {
        f"systemuser/{dataverse.user_id}": 1, f"contact/{aino}": 2}


def test_a_lost_answer_to_the_create_leaves_one_phone_call(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    dataverse.add_contact("Aino", "Virtanen", CALLER)
    # The create is carried out, then the connection drops before the answer.
    dataverse.fail_next("lost", method="PATCH", path_contains="/phonecalls(")
    profile = dynamics_profile(tmp_path / "profile", entra, dataverse, configure=answering)
    sign_in(profile, entra)
    app = running(processes, profile, entra)
    peer = inbound(sipp, tmp_path, profile, "uac_remote_bye", HOLD_MS="1500")
    ringing = app.event("ringing")
    assert peer.wait() == 0, peer.output()
    app.event("crm_logged", call_id=ringing["call_id"])
    calls = dataverse.records("phonecalls")
    assert list(calls) == [records.activity_id(ringing["call_id"])]
    assert next(iter(calls.values()))["statecode"] == 1  # and it was closed after all
    creates = [r for r in dataverse.requests if r["method"] == "PATCH"
               and r["headers"].get("If-None-Match") == "*"]
    assert len(creates) == 2  # the lost one, and the retry the service answered 412
    assert len([s for s in app.log.seen if s.get("event") == "crm_logged"]) == 1


CALLS = 100


def test_a_hundred_calls_under_throttling_become_a_hundred_phone_calls_exactly_once(
        tmp_path: Path, entra: FakeEntraId, dataverse: FakeDataverse,
        sipp: Callable[..., Sipp], processes: Callable[..., AppProcess]) -> None:
    dataverse.add_contact("Aino", "Virtanen", CALLER)
    profile = dynamics_profile(
        tmp_path / "profile", entra, dataverse, workflow="contact_account",
        configure=lambda s: setattr(s.dynamics, "max_retry_wait_seconds", 0))
    sign_in(profile, entra)
    # Every third phone call write is refused with the service-protection 429 (all three
    # codes in turn), asking for a 1 s pause each time.
    for n, kind in enumerate(("throttle_requests", "throttle_time", "throttle_concurrency")
                             * 12):
        dataverse.fail_next(kind, retry_after=1, method="PATCH",
                            path_contains="/phonecalls(", skip=2 if n == 0 else 0)
    app = running(processes, profile, entra)
    started = time.monotonic()
    # One caller after another gives up after ringing: missed calls, logged like any other.
    peer = sipp(scenario(tmp_path, "uac_cancel", HOLD_MS="300"),
                f"127.0.0.1:{port_of(profile)}", calls=CALLS,
                extra=("-l", "1", "-r", "10", "-timeout", "300s"))
    assert peer.wait(timeout=300) == 0, peer.output()
    deadline = time.monotonic() + 300
    while True:
        logged = [s["call_id"] for s in app.log.seen if s.get("event") == "crm_logged"]
        if len(set(logged)) >= CALLS or time.monotonic() > deadline:
            break
        with contextlib.suppress(AssertionError):  # waiting reads the lines that came
            app.event("crm_logged", timeout=2, call_id="none yet")
    elapsed = time.monotonic() - started
    rung = {s["call_id"] for s in app.log.seen if s.get("event") == "ringing"}
    assert len(rung) == CALLS
    assert sorted(logged) == sorted(rung)  # each call logged, and only once
    calls = dataverse.records("phonecalls")
    assert sorted(calls) == sorted(records.activity_id(c) for c in rung)
    assert all(c["statecode"] == 1 and c["statuscode"] == 4 for c in calls.values())
    throttled = [r for r in dataverse.requests if r["method"] == "PATCH"]
    assert not dataverse.faults  # every 429 was given out and waited for
    print(f"\n{CALLS} calls, 36 throttled writes: all logged {elapsed:.1f} s after the "
          f"first call; {len(throttled)} PATCH requests")
    app.stop()
    assert secrets_in(profile, entra) == []
