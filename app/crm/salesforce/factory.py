"""Builds the Salesforce objects from settings; the composition root calls this once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.config import SalesforceSettings
from app.crm.salesforce.auth import SalesforceAuth
from app.crm.salesforce.backend import SalesforceBackend
from app.crm.salesforce.client import ApiUsage, SalesforceClient, new_http_session
from app.secrets import SecretStore


@dataclass(frozen=True)
class SalesforceParts:
    auth: SalesforceAuth  # sign-in / sign-out (`switchboard crm login`, the button)
    client: SalesforceClient
    backend: SalesforceBackend  # the CrmBackend


def secret_key(settings: SalesforceSettings) -> str:
    """The keyring entry of the refresh token."""
    return settings.keyring_key or f"salesforce:{settings.client_id}"


def build(settings: SalesforceSettings, *, region: str, secret_store: SecretStore,
          on_usage: Callable[[ApiUsage], object] | None = None,
          on_quota_warning: Callable[[ApiUsage], object] | None = None) -> SalesforceParts:
    """The parts, not signed in and without any network traffic (that starts on first use)."""
    http = new_http_session()  # the one Session of this backend
    auth = SalesforceAuth(login_url=settings.login_url, client_id=settings.client_id,
                          secret_store=secret_store, secret_key=secret_key(settings),
                          http=http, redirect_port=settings.redirect_port,
                          timeout=settings.timeout_seconds)
    client = SalesforceClient(auth, http, api_version=settings.api_version,
                              timeout=settings.timeout_seconds,
                              quota_warning_percent=settings.quota_warning_percent,
                              on_usage=on_usage, on_quota_warning=on_quota_warning)
    backend = SalesforceBackend(client, region=region,
                                external_id_field=settings.external_id_field,
                                trailing_digits=settings.trailing_digits,
                                recording_field=settings.recording_url_field,
                                queue_wait_field=settings.queue_wait_field)
    return SalesforceParts(auth, client, backend)
