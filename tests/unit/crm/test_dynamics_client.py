"""The Dataverse HTTP client against the fake's faults: throttling, sign-in, refusals, junk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.core.crm import CrmError, CrmUnavailable
from app.crm.dynamics.auth import SignInRequired
from app.crm.dynamics.client import AccessDenied, DataverseClient, Throttled
from tests.fakes.dataverse import THROTTLE, FakeDataverse
from tests.unit.crm.dynamics_helpers import FakeClock, StaticTokens


@pytest.fixture
def fake() -> Iterator[FakeDataverse]:
    server = FakeDataverse().start()
    yield server
    server.stop()


def _client(fake: FakeDataverse, clock: FakeClock | None = None,
            tokens: StaticTokens | None = None, **kw: Any) -> DataverseClient:
    clock = clock or FakeClock()
    return DataverseClient(fake.org_url, tokens or StaticTokens(), timeout=5,
                           sleep=clock.sleep, clock=clock.clock, **kw)


@pytest.mark.parametrize("kind", sorted(THROTTLE))
def test_429_waits_exactly_what_retry_after_says_then_succeeds(fake: FakeDataverse,
                                                               kind: str) -> None:
    clock = FakeClock()
    fake.fail_next(kind, retry_after=7)
    assert _client(fake, clock).get("WhoAmI")["UserId"] == fake.user_id
    assert clock.slept == [7.0]
    assert [r["path"] for r in fake.requests].count("/api/data/v9.2/WhoAmI") == 2


def test_a_second_request_also_waits_out_the_same_retry_after(fake: FakeDataverse) -> None:
    clock = FakeClock()
    client = _client(fake, clock)
    fake.fail_next("throttle_concurrency", retry_after=30)
    client.get("WhoAmI")
    clock.now -= 10  # as if another thread's request starts 10 s into the wait
    client.get("WhoAmI")
    assert clock.slept == [30.0, 10.0]


def test_a_wait_longer_than_allowed_fails_as_throttled_with_the_servers_wish(
        fake: FakeDataverse) -> None:
    clock = FakeClock()
    fake.fail_next("throttle_time", retry_after=600)
    with pytest.raises(Throttled, match="execution time") as caught:
        _client(fake, clock, max_retry_wait=120).get("WhoAmI")
    assert caught.value.retry_after == 600 and clock.slept == []
    assert isinstance(caught.value, CrmUnavailable)  # the outbox keeps the write


def test_401_refreshes_the_token_once_and_goes_on(fake: FakeDataverse) -> None:
    tokens = StaticTokens("stale-token", after_refresh="good-token")
    assert _client(fake, tokens=tokens).get("WhoAmI")["UserId"] == fake.user_id
    assert tokens.calls == [False, True]


def test_401_after_the_refresh_says_sign_in_is_needed(fake: FakeDataverse) -> None:
    tokens = StaticTokens("revoked-token")
    with pytest.raises(SignInRequired, match="Sign in to Dynamics 365 again"):
        _client(fake, tokens=tokens).get("WhoAmI")
    assert tokens.calls == [False, True]


def test_403_tenant_policy_is_explained_for_it(fake: FakeDataverse) -> None:
    fake.fail_next("forbidden_policy")
    with pytest.raises(AccessDenied) as caught:
        _client(fake).get("WhoAmI")
    text = str(caught.value)
    assert "tenant policy" in text and "Pass this message to your IT" in text
    assert "blocked by a tenant policy" in text  # Dynamics' own words are kept


def test_403_missing_privilege_names_it(fake: FakeDataverse) -> None:
    fake.fail_next("forbidden_privilege")
    with pytest.raises(AccessDenied, match="lacks the privilege prvCreateActivity"):
        _client(fake).get("WhoAmI")


def test_503_is_unavailable(fake: FakeDataverse) -> None:
    fake.fail_next("unavailable")
    with pytest.raises(CrmUnavailable, match="HTTP 503"):
        _client(fake).get("WhoAmI")


def test_an_html_page_instead_of_the_api_is_a_clear_error(fake: FakeDataverse) -> None:
    fake.fail_next("garbage")
    with pytest.raises(CrmUnavailable, match=r"not its Web API.*text/html.*dynamics\.org_url"):
        _client(fake).get("WhoAmI")


def test_a_lost_answer_is_unavailable_not_a_crash(fake: FakeDataverse) -> None:
    fake.fail_next("lost")
    with pytest.raises(CrmUnavailable, match="answer may have been lost"):
        _client(fake).get("WhoAmI")


def test_a_bad_request_is_a_crm_error_with_dataverse_words(fake: FakeDataverse) -> None:
    with pytest.raises(CrmError, match="Could not find a property named 'shoesize'") as caught:
        _client(fake).get("contacts", {"$select": "shoesize"})
    assert not isinstance(caught.value, CrmUnavailable)


def test_a_refused_port_is_unavailable() -> None:
    client = DataverseClient("http://127.0.0.1:9", StaticTokens(), timeout=2)
    with pytest.raises(CrmUnavailable, match="Cannot reach Dynamics 365"):
        client.get("WhoAmI")


def test_the_org_url_must_be_an_environment_address() -> None:
    with pytest.raises(CrmError, match=r"dynamics\.org_url"):
        DataverseClient("contoso.crm4.dynamics.com", StaticTokens())
    with pytest.raises(CrmError, match=r"dynamics\.org_url"):
        DataverseClient("https://contoso.crm4.dynamics.com/main.aspx", StaticTokens())


class _RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        self.seen.append(kwargs)
        return super().request(method, url, *args, **kwargs)


def test_every_request_has_a_timeout_and_no_token_in_the_log(
        fake: FakeDataverse, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    session = _RecordingSession()
    client = DataverseClient(fake.org_url, StaticTokens(), session=session, timeout=4)
    fake.fail_next("throttle_requests", retry_after=0)
    client.get("WhoAmI")
    client.create("accounts", {"name": "Timeout Oy"})
    assert [kw["timeout"] for kw in session.seen] == [4, 4, 4]
    assert "good-token" not in caplog.text
