"""Salesforce sign-in against the fake org over its socket: PKCE, refresh, rotation, revoke."""

from __future__ import annotations

import logging
import socket
import string
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from app.core.crm import CrmError, CrmUnavailable
from app.crm.salesforce.auth import Pkce, s256
from app.crm.salesforce.errors import SignInRequired
from tests.fakes.salesforce import USER_ID, FakeSalesforce
from tests.unit.crm.salesforce_helpers import (
    KEY,
    DictStore,
    Org,
    connect,
    signed_in,
    started_fake,
)

NUMBER = "+358401234567"


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    yield from started_fake()


@pytest.fixture
def store() -> DictStore:
    return DictStore()


@pytest.fixture
def org(fake: FakeSalesforce, store: DictStore) -> Org:
    return signed_in(fake, store)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def registered(fake: FakeSalesforce, store: DictStore) -> Org:
    """An app whose fixed callback port the admin registered in the External Client App."""
    port = free_port()
    fake.callback_urls = {f"http://localhost:{port}/callback"}
    return connect(fake, store, redirect_port=port)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_s256_challenge_is_rfc_7636_appendix_b() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_new_pkce_verifier_is_long_random_and_unreserved() -> None:
    first, second = Pkce.new(), Pkce.new()
    assert 43 <= len(first.verifier) <= 128
    assert set(first.verifier) <= set(string.ascii_letters + string.digits + "-._~")
    assert first.verifier != second.verifier
    assert first.challenge == s256(first.verifier)
    assert first.verifier not in repr(first)


def test_pkce_login_with_the_test_playing_the_browser(fake: FakeSalesforce,
                                                      store: DictStore) -> None:
    app = registered(fake, store)
    pages: list[int] = []

    def browser(url: str) -> None:
        assert url.startswith(f"{fake.login_url}/services/oauth2/authorize?")
        q = query_of(url)
        assert (q["response_type"], q["code_challenge_method"], q["scope"]) == \
            ("code", "S256", "api refresh_token web")
        assert "code_verifier" not in q
        login = requests.get(url, allow_redirects=False, timeout=5)
        assert login.status_code == 302
        assert login.headers["Location"].startswith(q["redirect_uri"] + "?")
        pages.append(requests.get(login.headers["Location"], timeout=5).status_code)

    session = app.auth.sign_in_with_browser(browser, timeout=10)

    assert pages == [200]
    assert fake.grants == ["authorization_code"]
    assert fake.refresh_token_valid(store.values[KEY])
    assert session.instance_url == fake.instance_url and session.user_id == USER_ID
    assert session.access_token not in store.values.values()
    assert session.access_token not in repr(session)
    assert app.backend.identify(NUMBER).count == 0  # the session works


def test_a_redirect_carrying_another_state_does_not_finish_the_sign_in(
        fake: FakeSalesforce, store: DictStore) -> None:
    app = registered(fake, store)
    pages: list[int] = []

    def browser(url: str) -> None:
        redirect = query_of(url)["redirect_uri"]
        forged = f"{redirect}?{urlencode({'code': 'aPrxforged', 'state': 'not-ours'})}"
        pages.append(requests.get(forged, timeout=5).status_code)
        pages.append(requests.get(url, timeout=5).status_code)  # the agent signs in

    app.auth.sign_in_with_browser(browser, timeout=10)

    assert pages == [400, 200]
    assert fake.refresh_token_valid(store.values[KEY])


def test_a_denied_sign_in_says_why_and_stores_nothing(fake: FakeSalesforce,
                                                      store: DictStore) -> None:
    app = registered(fake, store)

    def browser(url: str) -> None:
        q = query_of(url)
        denied = urlencode({"error": "access_denied", "state": q["state"],
                            "error_description": "end-user denied authorization"})
        requests.get(f"{q['redirect_uri']}?{denied}", timeout=5)

    with pytest.raises(CrmError, match="end-user denied authorization"):
        app.auth.sign_in_with_browser(browser, timeout=10)
    assert store.values == {}


def test_the_code_is_useless_without_its_verifier(fake: FakeSalesforce,
                                                 store: DictStore) -> None:
    app = registered(fake, store)
    redirect = next(iter(fake.callback_urls))
    answer = requests.get(app.auth.authorize_url(redirect, Pkce.new(), "s1"),
                          allow_redirects=False, timeout=5)
    code = query_of(answer.headers["Location"])["code"]

    with pytest.raises(CrmError, match="invalid code verifier"):
        app.auth.exchange_code(code, Pkce.new().verifier, redirect)
    assert store.values == {}


def test_an_expired_session_is_refreshed_once_and_the_request_retried_once(org: Org) -> None:
    org.backend.identify(NUMBER)
    first_token = org.auth.session().access_token
    org.fake.expire_sessions()

    org.backend.identify(NUMBER)

    assert org.fake.grants == ["refresh_token", "refresh_token"]
    searches = org.fake.rest_requests("POST", "parameterizedSearch")
    # 3 ladder steps at first; then the refused try with the old token, and its one retry.
    assert [r.token == first_token for r in searches[3:]] == [True, False, False, False]


def test_concurrent_requests_on_an_expired_session_refresh_only_once(org: Org) -> None:
    org.backend.identify(NUMBER)
    org.fake.expire_sessions()
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            org.backend.identify(NUMBER)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert org.fake.grants.count("refresh_token") == 2  # the first sign-in and one refresh


def test_a_rotated_refresh_token_is_saved_before_the_new_session_is_used(org: Org) -> None:
    org.fake.rotate_refresh_tokens = True
    old = org.store.values[KEY]
    seen_at_save: list[set[str]] = []
    org.store.on_set = lambda value: seen_at_save.append(org.fake.tokens_used())

    org.backend.identify(NUMBER)

    new = org.store.values[KEY]
    assert new != old and org.fake.refresh_token_valid(new)
    assert not org.fake.refresh_token_valid(old)
    session_token = org.auth.session().access_token
    assert len(seen_at_save) == 1 and session_token not in seen_at_save[0]
    assert session_token in org.fake.tokens_used()
    # A restart signs in with the token saved last.
    assert connect(org.fake, org.store).backend.identify(NUMBER).count == 0


def test_the_instance_url_comes_from_the_refresh_answer(org: Org) -> None:
    contact = org.fake.add("Contact", LastName="Virtanen", Phone=NUMBER)
    org.backend.identify(NUMBER)
    moved = org.fake.move_instance()

    found = org.backend.identify(NUMBER)

    assert [c.id for c in found.contacts] == [contact]
    assert org.fake.rest_requests("POST", "parameterizedSearch")[-1].port == \
        int(moved.rsplit(":", 1)[1])
    assert org.backend.record_url(found.contacts[0].ref) == \
        f"{moved}/lightning/r/Contact/{contact}/view"


def test_sign_out_revokes_the_refresh_token_and_forgets_it(org: Org) -> None:
    token = org.store.values[KEY]
    org.backend.identify(NUMBER)

    assert org.auth.revoke() is True

    assert not org.fake.refresh_token_valid(token)
    assert KEY not in org.store.values and not org.auth.signed_in
    with pytest.raises(SignInRequired):
        org.backend.identify(NUMBER)


def test_a_refresh_token_the_org_no_longer_knows_asks_to_sign_in_and_is_unavailable(
        fake: FakeSalesforce, store: DictStore) -> None:
    store.values[KEY] = "5Aepnot-known-any-more"
    app = connect(fake, store)

    with pytest.raises(SignInRequired, match="Sign in again") as caught:
        app.backend.find_activity("call-1")
    assert isinstance(caught.value, CrmUnavailable)  # the outbox keeps the writes


def test_device_flow_for_a_machine_without_a_browser(fake: FakeSalesforce,
                                                     store: DictStore) -> None:
    app = connect(fake, store)
    device = app.auth.start_device_flow()
    assert device.user_code and device.verification_uri.startswith(fake.login_url)
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        fake.approve_device(device.user_code)  # the agent types the code elsewhere

    session = app.auth.finish_device_flow(device, wait=wait)

    assert waits == [5.0]
    assert fake.grants == ["device_code", "device", "device"]
    assert fake.refresh_token_valid(store.values[KEY])
    assert session.instance_url == fake.instance_url


def test_no_token_reaches_the_log(fake: FakeSalesforce, store: DictStore,
                                  caplog: pytest.LogCaptureFixture) -> None:
    fake.rotate_refresh_tokens = True
    app = registered(fake, store)
    seen: list[str] = []
    store.on_set = seen.append

    def browser(url: str) -> None:
        requests.get(url, timeout=5)  # follows the redirect to the loopback listener

    with caplog.at_level(logging.DEBUG):
        seen.append(app.auth.sign_in_with_browser(browser, timeout=10).access_token)
        fake.expire_sessions()
        app.backend.identify(NUMBER)
        seen.append(app.auth.session().access_token)
        app.auth.revoke()

    assert len(seen) == 4 and caplog.records  # urllib3 and our own lines were captured
    assert not [token for token in seen if token in caplog.text]
