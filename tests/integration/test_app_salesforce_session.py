"""Salesforce's web session: bridged from our sign-in, never on disk (issue 12).

Decision (the session cookie vs "nothing secret in config, logs or databases"): the org's
web session cookie is a credential, so it is never written to disk. The Salesforce web
profile keeps its cache and storage under the profile (a 0700 folder) but its cookies in
memory only; each run the app bridges its OAuth session into the web view through
frontdoor.jsp (a POST, the token in the body), so the agent still signs in only once.
`switchboard crm logout` deletes the web profile with the sign-in.

The whole app as in test_app_salesforce_matrix.py (build_app in this process, the real
backend over HTTP to tests/fakes/salesforce.py, whose pages need the bridged session).
"""

from __future__ import annotations

import io
import stat
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.crm.salesforce import login
from app.crm.salesforce.factory import secret_key
from app.crm.salesforce.web import FRONTDOOR_PATH, web_dir
from app.paths import Profile
from tests.fakes.salesforce import FakeSalesforce
from tests.integration.test_app_salesforce_matrix import (
    ONE,
    WAIT_MS,
    Agent,
    lightning,
    salesforce_settings,
    signed_in,
)
from tests.integration.test_app_salesforce_matrix import org as org  # the fixtures
from tests.integration.test_app_salesforce_matrix import start_app as start_app


def files_holding(root: Path, secrets: set[str]) -> list[str]:
    """Files under `root` holding any of `secrets` (config, logs, databases, web storage)."""
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
            and any(s.encode() in p.read_bytes() for s in secrets)]


def page_title(qtbot: QtBot, agent: Agent) -> str:
    page = agent.crm.view.web_page
    assert page is not None
    return page.title()


def test_the_web_session_comes_from_the_sign_in_and_never_reaches_the_disk(
        qtbot: QtBot, org: FakeSalesforce, start_app: Callable[..., SwitchboardApp],
        tmp_path: Path) -> None:
    aino = org.add("Contact", FirstName="Aino", LastName="Virtanen", Phone=ONE)
    settings = salesforce_settings(org, "contact_account")
    keyring = signed_in(org, settings)
    app = start_app(settings, keyring)
    agent = Agent(qtbot, app)
    page = agent.crm.view.web_page
    assert page is not None
    web = page.profile()
    assert not web.isOffTheRecord()  # cache and storage on disk...
    assert web.persistentCookiesPolicy() is \
        QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies  # ...cookies never
    folder = web_dir(Profile.at(tmp_path / "profile").data_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # The first pop bridges the API session into the page: one POST, the token in the body.
    call = agent.inbound(ONE)
    assert agent.wait_pop(call) == lightning(org, "Contact", aino)
    assert page_title(qtbot, agent).startswith("Aino Virtanen")
    [bridge] = [r for r in org.requests if r.path == FRONTDOOR_PATH]
    assert bridge.method == "POST" and bridge.body["retURL"] == \
        f"/lightning/r/Contact/{aino}/view"
    assert org.web_sessions == [bridge.body["sid"]]
    assert bridge.body["sid"] in org.tokens_used()  # the API's own session
    agent.answer(call)
    agent.hang_up_and_wait_for_the_task(call)

    # The next pop needs no bridge; after the org ended the session, one more.
    second = agent.inbound(ONE)
    agent.wait_pop(second)
    assert len(org.web_sessions) == 1
    agent.answer(second)
    agent.hang_up_and_wait_for_the_task(second)
    org.expire_sessions()
    third = agent.inbound(ONE)
    assert agent.wait_pop(third) == lightning(org, "Contact", aino)
    assert len(org.web_sessions) == 2 and org.web_sessions[0] != org.web_sessions[1]
    assert page_title(qtbot, agent).startswith("Aino Virtanen")  # not the login page
    agent.answer(third)
    agent.hang_up_and_wait_for_the_task(third)

    # No token in any URL the web view asked for, and none on disk after the app closed.
    tokens = org.tokens_used() | org.refresh_tokens() | set(org.web_sessions)
    with org.lock:
        assert not any(t in r.path or t in str(r.query) for r in org.requests
                       for t in tokens)
    closed: list[bool] = []
    web.destroyed.connect(lambda: closed.append(True))
    app.shutdown()  # Chromium writes its cookie database when the profile goes
    qtbot.waitUntil(lambda: bool(closed), timeout=WAIT_MS)
    # With cookies kept on disk, the token is in data/web/salesforce/storage/Cookies here.
    assert files_holding(tmp_path / "profile", tokens) == []
    assert keyring.values == {secret_key(settings.salesforce): next(iter(
        org.refresh_tokens()))}


def test_crm_logout_revokes_the_sign_in_and_deletes_the_web_profile(
        org: FakeSalesforce, tmp_path: Path) -> None:
    settings = salesforce_settings(org, "contact_account")
    keyring = signed_in(org, settings)
    [token] = keyring.values.values()
    folder = web_dir(tmp_path / "data")
    (folder / "cache").mkdir(parents=True)
    (folder / "cache" / "page").write_text("the org's cached page")
    out = io.StringIO()

    assert login.logout(settings, keyring, out=out, web_dir=folder) == 0
    assert "revoked" in out.getvalue()
    assert not folder.exists()
    assert keyring.values == {} and not org.refresh_token_valid(token)
