"""Sign-in with the real msal against the fake Entra ID, then tokens the fake Dataverse takes.

Also measures which msal settings work with a local https authority (msal refuses http):
the answers are asserted here so a new msal release that changes them is noticed.
"""

from __future__ import annotations

import html
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import msal
import pytest
import requests

from app import config
from app.config import DynamicsSettings
from app.crm.dynamics.auth import (
    DeviceCode,
    DynamicsAuth,
    SignInFailed,
    SignInRequired,
    open_token_cache,
)
from app.crm.dynamics.client import DataverseClient
from app.crm.dynamics.factory import TOKEN_CACHE_NAME, build
from tests.fakes.dataverse import FakeDataverse
from tests.fakes.entra_id import FakeEntraId


class LocalOnlySession(requests.Session):
    """Refuses every host but 127.0.0.1/localhost, and remembers which hosts were asked."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: set[str] = set()

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        host = urlparse(str(url)).hostname or ""
        self.hosts.add(host)
        if host not in ("127.0.0.1", "localhost"):
            raise requests.ConnectionError(f"test refuses to contact {host}")
        return super().request(method, url, *args, **kwargs)


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


@pytest.fixture
def session() -> LocalOnlySession:
    return LocalOnlySession()


def _auth(entra: FakeEntraId, dataverse: FakeDataverse, session: requests.Session,
          cache_path: Path, **kw: Any) -> DynamicsAuth:
    cache, _ = open_token_cache(cache_path)
    return DynamicsAuth(org_url=dataverse.org_url, client_id=entra.client_id,
                        tenant=entra.tenant, authority_host=entra.host, cache=cache,
                        session=session, verify=str(entra.cert_path), timeout=10, **kw)


def _device_sign_in(auth: DynamicsAuth, entra: FakeEntraId) -> str:
    shown: list[DeviceCode] = []

    def show(code: DeviceCode) -> None:  # the agent reads the code and signs in elsewhere
        shown.append(code)
        entra.approve_device_code(code.user_code)

    user = auth.sign_in(show, prefer_browser=False)
    assert shown and shown[0].user_code in shown[0].message
    return user


# -- what msal accepts as a local authority (measured) ------------------------------------------

@pytest.mark.parametrize(("case", "works"), [
    ("http authority", False),
    ("https, certificate not trusted", False),
    ("https + verify + instance_discovery=False", True),
    ("https + verify + validate_authority=False", True),
    ("https + verify + msal defaults", False),
    ("https + verify + instance_discovery=<the fake's URL>", True),
])
def test_msal_with_a_local_authority(entra: FakeEntraId, session: LocalOnlySession,
                                     case: str, works: bool) -> None:
    authority, kw = entra.authority, {}
    verify: bool | str = str(entra.cert_path)
    if case.startswith("http "):
        authority = authority.replace("https://", "http://")
    if "not trusted" in case:
        verify = True
    if "instance_discovery=False" in case:
        kw["instance_discovery"] = False
    if "validate_authority=False" in case:
        kw["validate_authority"] = False
    if "fake's URL" in case:
        kw["instance_discovery"] = f"https://{entra.host}/common/discovery/instance"

    class Verified(LocalOnlySession):
        def request(self, *a: Any, **k: Any) -> requests.Response:  # type: ignore[override]
            k.setdefault("verify", verify)  # per call: REQUESTS_CA_BUNDLE beats Session.verify
            k.setdefault("timeout", 10)
            return super().request(*a, **k)

    http = Verified()
    try:
        app = msal.PublicClientApplication(entra.client_id, authority=authority,
                                           http_client=http, **kw)
        flow = app.initiate_device_flow(["https://org.example/user_impersonation"])
        entra.approve_device_code(flow["user_code"])
        ok = "access_token" in app.acquire_token_by_device_flow(flow)
    except (ValueError, requests.RequestException):
        ok = False
    assert ok is works
    if case.endswith("msal defaults"):
        assert "login.microsoftonline.com" in http.hosts  # it would have asked Microsoft


# -- sign-in ------------------------------------------------------------------------------------

def test_not_signed_in_asks_for_sign_in(entra: FakeEntraId, dataverse: FakeDataverse,
                                        session: LocalOnlySession, tmp_path: Path) -> None:
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin")
    with pytest.raises(SignInRequired, match="Sign in to Dynamics 365"):
        auth.access_token()


def test_a_tenant_entra_id_does_not_know_is_a_clear_failure(
        entra: FakeEntraId, dataverse: FakeDataverse, session: LocalOnlySession,
        tmp_path: Path) -> None:
    cache, _ = open_token_cache(tmp_path / "cache.bin")
    auth = DynamicsAuth(org_url=dataverse.org_url, client_id=entra.client_id,
                        tenant="nosuch.onmicrosoft.com", authority_host=entra.host,
                        cache=cache, session=session, verify=str(entra.cert_path))
    with pytest.raises(SignInFailed, match=r"check dynamics\.tenant"):
        auth.access_token()


def test_device_code_when_no_browser_opens_then_dataverse_takes_the_token(
        entra: FakeEntraId, dataverse: FakeDataverse, session: LocalOnlySession,
        tmp_path: Path) -> None:
    shown: list[DeviceCode] = []

    def show(code: DeviceCode) -> None:
        shown.append(code)
        entra.approve_device_code(code.user_code)

    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin",
                 open_browser=lambda url: False)
    assert auth.sign_in(show) == entra.username
    assert len(shown) == 1
    client = DataverseClient(dataverse.org_url, auth, session=session, timeout=10)
    assert client.get("WhoAmI")["UserId"] == dataverse.user_id
    assert session.hosts == {"127.0.0.1"}


def test_device_code_declined_is_a_clear_failure(entra: FakeEntraId, dataverse: FakeDataverse,
                                                 session: LocalOnlySession,
                                                 tmp_path: Path) -> None:
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin")
    code = auth.start_device_code()
    entra.decline_device_code(code.user_code)
    with pytest.raises(SignInFailed, match="declined"):
        auth.finish_device_code(code)


class _TestBrowser:
    """Plays the system browser: loads the sign-in page and submits its form to the loopback."""

    def __init__(self, entra: FakeEntraId) -> None:
        self.entra = entra
        self.urls: list[str] = []
        self.threads: list[threading.Thread] = []

    def open(self, url: str) -> bool:
        self.urls.append(url)
        thread = threading.Thread(target=self._browse, args=(url,))
        thread.start()
        self.threads.append(thread)
        return True

    def _browse(self, url: str) -> None:
        page = requests.get(url, verify=str(self.entra.cert_path), timeout=10).text
        action = re.search(r'action="([^"]+)"', page)
        assert action is not None, page
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
        requests.post(html.unescape(action.group(1)),
                      data={k: html.unescape(v) for k, v in fields.items()}, timeout=10)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(10)


def test_interactive_sign_in_through_the_browser_and_loopback(
        entra: FakeEntraId, dataverse: FakeDataverse, session: LocalOnlySession,
        tmp_path: Path) -> None:
    browser = _TestBrowser(entra)
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin", open_browser=browser.open)
    assert auth.sign_in_browser(timeout=30) == entra.username
    browser.join()
    asked = parse_qs(urlparse(browser.urls[0]).query)
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["response_mode"] == ["form_post"]
    assert asked["redirect_uri"][0].startswith("http://localhost:")
    assert asked["scope"][0].split()[0] == f"{dataverse.org_url}/user_impersonation"
    assert DataverseClient(dataverse.org_url, auth, session=session).get("WhoAmI")


def test_interactive_sign_in_refused_by_the_user(entra: FakeEntraId, dataverse: FakeDataverse,
                                                 session: LocalOnlySession,
                                                 tmp_path: Path) -> None:
    browser = _TestBrowser(entra)
    entra.deny_next_authorization()
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin", open_browser=browser.open)
    with pytest.raises(SignInFailed, match="declined to consent"):
        auth.sign_in_browser(timeout=30)
    browser.join()


def test_interactive_sign_in_can_be_cancelled(entra: FakeEntraId, dataverse: FakeDataverse,
                                              session: LocalOnlySession,
                                              tmp_path: Path) -> None:
    cancel = threading.Event()

    def browser_that_never_returns(url: str) -> bool:
        cancel.set()  # the agent clicks Cancel instead of finishing in the browser
        return True

    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin",
                 open_browser=browser_that_never_returns)
    with pytest.raises(SignInFailed, match="cancelled"):
        auth.sign_in_browser(cancel=cancel)


# -- afterwards: silent refresh, revocation, the cache ------------------------------------------

def test_an_expired_access_token_is_refreshed_silently_after_a_401(
        entra: FakeEntraId, dataverse: FakeDataverse, session: LocalOnlySession,
        tmp_path: Path) -> None:
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin")
    _device_sign_in(auth, entra)
    client = DataverseClient(dataverse.org_url, auth, session=session)
    client.get("WhoAmI")
    entra.expire_access_tokens()  # Dataverse now says 401 to the cached token
    assert client.get("WhoAmI")["UserId"] == dataverse.user_id
    assert entra.grant_types()[-1] == "refresh_token"


def test_a_revoked_sign_in_asks_to_sign_in_again(entra: FakeEntraId, dataverse: FakeDataverse,
                                                 session: LocalOnlySession,
                                                 tmp_path: Path) -> None:
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin")
    _device_sign_in(auth, entra)
    entra.expire_access_tokens()
    entra.revoke_refresh_tokens()
    with pytest.raises(SignInRequired, match="Sign in to Dynamics 365 again"):
        DataverseClient(dataverse.org_url, auth, session=session).get("WhoAmI")


def test_the_sign_in_survives_a_restart_through_the_cache_file(
        entra: FakeEntraId, dataverse: FakeDataverse, session: LocalOnlySession,
        tmp_path: Path) -> None:
    path = tmp_path / "profile" / "dynamics-tokens.bin"
    _device_sign_in(_auth(entra, dataverse, session, path), entra)
    again = _auth(entra, dataverse, session, path)  # a new process would do this
    assert again.username() == entra.username
    assert again.access_token() in entra.access_tokens
    _, warning = open_token_cache(path)
    if warning is not None:  # no secret service here: a private file, and we said so
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert "not encrypted" in warning and str(path) in warning


def test_sign_out_forgets_the_account(entra: FakeEntraId, dataverse: FakeDataverse,
                                      session: LocalOnlySession, tmp_path: Path) -> None:
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin")
    _device_sign_in(auth, entra)
    auth.sign_out()
    with pytest.raises(SignInRequired):
        auth.access_token()


def test_doctor_reads_the_sign_in_state_from_the_cache_without_going_online(
        entra: FakeEntraId, dataverse: FakeDataverse, session: LocalOnlySession,
        tmp_path: Path) -> None:
    from app.crm.dynamics.login import sign_in_state
    from app.paths import Profile

    profile = Profile.at(tmp_path / "profile")
    assert sign_in_state(profile).startswith("not signed in: run `switchboard crm login`")
    assert not (profile.data_dir / TOKEN_CACHE_NAME).exists()  # doctor creates nothing
    auth = _auth(entra, dataverse, session, profile.data_dir / TOKEN_CACHE_NAME)
    _device_sign_in(auth, entra)
    asked = len(entra.requests)
    assert sign_in_state(profile).startswith(f"signed in as {entra.username}")
    assert len(entra.requests) == asked  # the cache alone, not the authority
    auth.sign_out()
    assert sign_in_state(profile).startswith("not signed in")


def test_no_token_reaches_the_log(entra: FakeEntraId, dataverse: FakeDataverse,
                                  session: LocalOnlySession, tmp_path: Path,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    browser = _TestBrowser(entra)
    auth = _auth(entra, dataverse, session, tmp_path / "cache.bin", open_browser=browser.open)
    auth.sign_in_browser(timeout=30)
    browser.join()
    client = DataverseClient(dataverse.org_url, auth, session=session)
    client.get("WhoAmI")
    entra.expire_access_tokens()
    client.get("WhoAmI")
    secrets = [*entra.access_tokens, *entra.refresh_tokens]
    assert secrets and not [s for s in secrets if s in caplog.text]


def test_the_factory_builds_a_working_backend_from_settings(
        entra: FakeEntraId, dataverse: FakeDataverse, tmp_path: Path) -> None:
    settings = DynamicsSettings(org_url=dataverse.org_url, tenant=entra.tenant,
                                client_id=entra.client_id, authority_host=entra.host)
    parts = build(settings, region="FI", data_dir=tmp_path / "data",
                  open_browser=lambda url: False, verify=str(entra.cert_path))
    code = parts.auth.start_device_code()
    entra.approve_device_code(code.user_code)
    parts.auth.finish_device_code(code)
    contact = dataverse.add_contact("Matti", "M", "+358401234567")
    assert [c.id for c in parts.backend.identify("040 123 4567").contacts] == [contact]
    assert (tmp_path / "data" / TOKEN_CACHE_NAME).exists()
    written = config.dumps(config.Settings(dynamics=settings))  # what config.toml would hold
    assert not [t for t in [*entra.access_tokens, *entra.refresh_tokens] if t in written]
