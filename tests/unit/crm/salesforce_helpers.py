"""Helpers for the Salesforce adapter tests: a dict secret store, a signed-in set, a call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from app.core.crm import CallActivity, RecordRef
from app.crm.salesforce.auth import SalesforceAuth
from app.crm.salesforce.backend import SalesforceBackend
from app.crm.salesforce.client import SalesforceClient, new_http_session
from tests.fakes.salesforce import CLIENT_ID, FakeSalesforce

KEY = "salesforce:test"


class DictStore:
    """SecretStore backed by a dict; `on_set` lets a test look at the world at save time."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.on_set: Callable[[str], None] | None = None

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        if self.on_set is not None:
            self.on_set(value)
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


@dataclass
class Org:
    """One signed-in set of adapter objects against the fake."""

    fake: FakeSalesforce
    store: DictStore
    auth: SalesforceAuth
    client: SalesforceClient
    backend: SalesforceBackend


def started_fake() -> Iterator[FakeSalesforce]:
    """The body of a module's `fake` fixture: a started fake org, stopped afterwards."""
    server = FakeSalesforce().start()
    yield server
    server.stop()


def connect(fake: FakeSalesforce, store: DictStore, *, redirect_port: int = 0,
            timeout: float = 5.0, api_version: str = "62.0",
            **backend_options: Any) -> Org:
    http = new_http_session()
    auth = SalesforceAuth(login_url=fake.login_url, client_id=CLIENT_ID, secret_store=store,
                          secret_key=KEY, http=http, redirect_port=redirect_port,
                          timeout=timeout)
    client = SalesforceClient(auth, http, api_version=api_version, timeout=timeout)
    backend = SalesforceBackend(client, region="FI", **backend_options)
    return Org(fake, store, auth, client, backend)


def signed_in(fake: FakeSalesforce, store: DictStore, **options: Any) -> Org:
    """Signed in earlier: a refresh token in the store, no session in memory yet."""
    store.values[KEY] = fake.issue_refresh_token()
    return connect(fake, store, **options)


def activity(call_id: str = "a84b4c76e66710@pbx.example.com", *,
             regarding: tuple[RecordRef, ...] = (), notes: str = "Wants a callback",
             direction: str = "inbound") -> CallActivity:
    return CallActivity(
        call_id=call_id, subject="Call from +358401234567 via Support", direction=direction,
        result="answered", started_at=datetime(2024, 6, 3, 9, 15, 0, tzinfo=timezone.utc),
        ended_at=datetime(2024, 6, 3, 9, 19, 5, tzinfo=timezone.utc), duration_seconds=230,
        caller_number="+358401234567", display_number="+358201234567", queue="Support",
        queue_wait_seconds=15, notes=notes, regarding=regarding)
