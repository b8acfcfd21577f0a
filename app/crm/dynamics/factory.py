"""Builds the Dynamics objects from settings; the composition root calls this once.

Nothing here touches the network: msal fetches its configuration on the first sign-in or
token request, which the caller runs off the GUI thread.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from app.config import DynamicsSettings
from app.crm.dynamics.auth import DynamicsAuth, open_token_cache
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.client import DataverseClient

TOKEN_CACHE_NAME = "dynamics-token-cache.bin"


@dataclass(frozen=True)
class DynamicsParts:
    auth: DynamicsAuth  # sign-in / sign-out (`switchboard crm login`, the button)
    client: DataverseClient
    backend: DynamicsBackend  # the CrmBackend
    cache_warning: str | None  # show it once: the token cache could not be encrypted


def build(settings: DynamicsSettings, *, region: str, data_dir: Path,
          open_browser: Callable[[str], bool] = webbrowser.open,
          verify: bool | str = True) -> DynamicsParts:
    """`data_dir` is the profile's data directory; the token cache goes there."""
    http = requests.Session()  # the one Session of this backend (sign-in and Web API)
    cache, warning = open_token_cache(data_dir / TOKEN_CACHE_NAME)
    auth = DynamicsAuth(org_url=settings.org_url, client_id=settings.client_id,
                        tenant=settings.tenant, authority_host=settings.authority_host,
                        cache=cache, session=http, redirect_port=settings.redirect_port,
                        timeout=settings.request_timeout_seconds, verify=verify,
                        open_browser=open_browser)
    client = DataverseClient(settings.org_url, auth, session=http,
                             timeout=settings.request_timeout_seconds,
                             max_retry_wait=settings.max_retry_wait_seconds, verify=verify)
    backend = DynamicsBackend(client, region=region, phone_fallback=settings.phone_fallback,
                              app_id=settings.app_id)
    return DynamicsParts(auth, client, backend, warning)
