"""Salesforce sign-in: OAuth 2.0 web-server flow with PKCE, refresh, revoke and device flow.

Follows Salesforce Help "OAuth 2.0 Web Server Flow for Web App Integration" (with the
code_challenge / code_verifier of PKCE, RFC 7636, S256), "OAuth 2.0 Refresh Token Flow for
Renewed Sessions" (refresh token rotation), "Revoke OAuth Tokens Programmatically" and
"OAuth 2.0 Device Flow for IoT Integration" (Salesforce's variant: `response_type=
device_code`, then `grant_type=device` with `code`).

Rules kept here, each for a reason:
- The refresh token lives only in the injected secret store (the keyring in production);
  it is read when needed and never kept in memory or logged. The access token lives only
  in memory (`OrgSession`, whose repr hides it).
- Salesforce access tokens carry no expiry: the client refreshes when the org answers
  401 INVALID_SESSION_ID. Only one refresh runs at a time; a caller holding a token that
  someone else has already replaced gets the new session without a second refresh.
- A rotated refresh token is written to the store BEFORE the new access token is used:
  a crash in between then costs nothing, because the old refresh token is already dead.
- The instance URL is always taken from the latest token answer (orgs move instances).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from app.core.crm import CrmError
from app.crm.salesforce.errors import SalesforceUnavailable, SignInRequired
from app.secrets import SecretStore

log = logging.getLogger(__name__)

SCOPES = "api refresh_token web"
CALLBACK_PATH = "/callback"
NETWORK_BACKOFF = 30.0  # seconds; the token endpoint was unreachable


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair: the verifier stays with us, the S256 challenge goes in the URL."""

    verifier: str = field(repr=False)
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        # 64 random bytes → 86 characters of [A-Za-z0-9_-]: inside RFC 7636's 43..128.
        verifier = secrets.token_urlsafe(64)
        return cls(verifier, s256(verifier))


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class OrgSession:
    """One signed-in session: the access token (memory only) and where the org lives."""

    access_token: str = field(repr=False)
    instance_url: str
    org_id: str = ""
    user_id: str = ""


@dataclass(frozen=True)
class DeviceAuthorization:
    """What the agent is shown in the device flow: go to `verification_uri`, type the code."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    interval: float


class _OAuthRefused(Exception):
    """The token endpoint answered with an OAuth error (`error`, `error_description`)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


class LoopbackListener:
    """Receives the browser's redirect (code + state) on 127.0.0.1:`port`, once.

    Salesforce matches the callback URL exactly, so production uses a fixed port that the
    admin enters in the External Client App; tests pass 0 and read `redirect_uri`.
    """

    def __init__(self, port: int, path: str = CALLBACK_PATH) -> None:
        self.path = path
        self._port = port
        self._done = threading.Event()
        self._expected_state = ""
        self._result: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self._port}{self.path}"

    def start(self, state: str) -> LoopbackListener:
        self._expected_state = state
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler())
        except OSError as exc:
            raise CrmError(f"Port {self._port} on this computer is taken, so the Salesforce "
                           "sign-in cannot come back to Switchboard. Close the program "
                           "using it or set salesforce.redirect_port (and the callback URL "
                           f"of the External Client App) to another port ({exc}).") from exc
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True,
                         name="salesforce-loopback").start()
        return self

    def wait(self, timeout: float) -> str:
        """The authorization code; CrmError when denied, on a bad answer or at the timeout."""
        if not self._done.wait(timeout):
            raise CrmError("The Salesforce sign-in was not finished in the browser in time; "
                           "try again.")
        if "error" in self._result:
            raise CrmError("Salesforce did not allow the sign-in: "
                           f"{self._result.get('error_description') or self._result['error']}")
        return self._result["code"]

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query string holds the authorization code: never log it

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != listener.path:
                    self._page(404, "Not found.")
                    return
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                # A stale tab or another site must not complete our sign-in.
                if not hmac.compare_digest(query.get("state", ""),
                                           listener._expected_state):
                    self._page(400, "This answer does not belong to the sign-in Switchboard "
                                    "started. Start the sign-in again from Switchboard.")
                    return
                if listener._done.is_set():
                    self._page(200, "Switchboard already has this answer.")
                    return
                if query.get("code") or query.get("error"):
                    listener._result = {k: query[k] for k in
                                        ("code", "error", "error_description") if k in query}
                    listener._done.set()
                    self._page(200, "Signed in. You can close this tab and go back to "
                                    "Switchboard." if "code" in query else
                               "The sign-in did not succeed; Switchboard says why.")
                    return
                self._page(400, "The answer has no authorization code.")

            def _page(self, status: int, text: str) -> None:
                # Static text only: nothing from the query is echoed back into the page.
                body = (f"<!doctype html><meta charset=utf-8><title>Switchboard</title>"
                        f"<p>{text}</p>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        return Handler


class SalesforceAuth:
    """Signs in, keeps the current OrgSession in memory and refreshes it when asked."""

    def __init__(self, *, login_url: str, client_id: str, secret_store: SecretStore,
                 secret_key: str, http: requests.Session, redirect_port: int = 0,
                 timeout: float = 10.0, scopes: str = SCOPES) -> None:
        self.login_url = login_url.rstrip("/")
        self.client_id = client_id
        self.redirect_port = redirect_port
        self.scopes = scopes
        self._store = secret_store
        self._key = secret_key
        self._http = http
        self._timeout = timeout
        self._lock = threading.Lock()  # one refresh (or sign-in) at a time
        self._session: OrgSession | None = None

    # -- state --------------------------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        """A refresh token is stored (it may still have been revoked in the org)."""
        return bool(self._store.get(self._key))

    def current(self) -> OrgSession | None:
        return self._session

    def session(self) -> OrgSession:
        """The current session, refreshing first when there is none in memory yet."""
        current = self._session
        return current if current is not None else self.refresh(None)

    # -- web-server flow with PKCE ------------------------------------------------------

    def authorize_url(self, redirect_uri: str, pkce: Pkce, state: str) -> str:
        query = urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": redirect_uri, "scope": self.scopes, "state": state,
            "code_challenge": pkce.challenge, "code_challenge_method": "S256",
        })
        return f"{self.login_url}/services/oauth2/authorize?{query}"

    def sign_in_with_browser(self, open_url: Callable[[str], object], *,
                             timeout: float = 300.0) -> OrgSession:
        """Open the authorize URL with `open_url` and wait for the loopback redirect."""
        pkce, state = Pkce.new(), secrets.token_urlsafe(24)
        listener = LoopbackListener(self.redirect_port).start(state)
        try:
            open_url(self.authorize_url(listener.redirect_uri, pkce, state))
            code = listener.wait(timeout)
        finally:
            listener.close()
        return self.exchange_code(code, pkce.verifier, listener.redirect_uri)

    def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> OrgSession:
        try:
            answer = self._token_post({
                "grant_type": "authorization_code", "code": code, "client_id": self.client_id,
                "redirect_uri": redirect_uri, "code_verifier": verifier})
        except _OAuthRefused as exc:
            raise CrmError(f"Salesforce refused the sign-in ({exc.description or exc.error})."
                           ) from None
        with self._lock:
            return self._adopt(answer, require_refresh=True)

    # -- refresh ------------------------------------------------------------------------

    def refresh(self, stale_token: str | None) -> OrgSession:
        """A fresh session. `stale_token` is the access token the org just refused.

        When another thread has already replaced that token, its session is returned
        without asking Salesforce again.
        """
        with self._lock:
            current = self._session
            if current is not None and current.access_token != stale_token:
                return current
            refresh_token = self._store.get(self._key)
            if not refresh_token:
                raise SignInRequired("Switchboard is not signed in to Salesforce. Sign in "
                                     "(`switchboard crm login`); call logs wait until then.")
            try:
                answer = self._token_post({"grant_type": "refresh_token",
                                           "refresh_token": refresh_token,
                                           "client_id": self.client_id})
            except _OAuthRefused as exc:
                self._session = None
                raise SignInRequired(
                    "Salesforce no longer accepts Switchboard's sign-in "
                    f"({exc.description or exc.error}). Sign in again "
                    "(`switchboard crm login`); call logs wait until then.") from None
            log.info("salesforce session refreshed")
            return self._adopt(answer, require_refresh=False, old_refresh=refresh_token)

    def forget_session(self) -> None:
        """Drop the access token from memory (the refresh token stays stored)."""
        self._session = None

    # -- revoke -------------------------------------------------------------------------

    def revoke(self) -> bool:
        """Sign out: revoke the refresh token in the org and delete it here.

        True when Salesforce confirmed the revocation (or already did not know the token);
        the local copy is deleted either way.
        """
        with self._lock:
            token = self._store.get(self._key)
            self._session = None
            confirmed = token is None
            if token:
                try:
                    reply = self._http.post(f"{self.login_url}/services/oauth2/revoke",
                                            data={"token": token}, timeout=self._timeout)
                    confirmed = reply.status_code == 200 or (
                        reply.status_code == 400 and "invalid_token" in reply.text)
                except requests.RequestException as exc:
                    log.warning("salesforce revoke failed: %s", type(exc).__name__)
            self._store.delete(self._key)
            return confirmed

    # -- device flow --------------------------------------------------------------------

    def start_device_flow(self) -> DeviceAuthorization:
        try:
            answer = self._token_post({"response_type": "device_code",
                                       "client_id": self.client_id, "scope": self.scopes})
        except _OAuthRefused as exc:
            raise CrmError("Salesforce refused the device sign-in "
                           f"({exc.description or exc.error}); is the device flow enabled "
                           "for the External Client App?") from None
        try:
            return DeviceAuthorization(str(answer["device_code"]), str(answer["user_code"]),
                                       str(answer["verification_uri"]),
                                       float(answer.get("interval") or 5))
        except (KeyError, TypeError, ValueError):
            raise SalesforceUnavailable("Salesforce's device sign-in answer is incomplete.",
                                        NETWORK_BACKOFF) from None

    def finish_device_flow(self, device: DeviceAuthorization, *,
                           wait: Callable[[float], object] = time.sleep,
                           max_wait: float = 600.0) -> OrgSession:
        """Poll until the agent has approved the code (or refused, or time ran out)."""
        interval, waited = max(device.interval, 1.0), 0.0
        while True:
            try:
                answer = self._token_post({"grant_type": "device", "client_id": self.client_id,
                                           "code": device.device_code})
            except _OAuthRefused as exc:
                if exc.error == "slow_down":
                    interval += 5  # RFC 8628 section 3.5
                elif exc.error != "authorization_pending":
                    raise CrmError("The device sign-in did not succeed "
                                   f"({exc.description or exc.error}).") from None
                if waited >= max_wait:
                    raise CrmError("The device sign-in code was not approved in time; "
                                   "start again.") from None
                wait(interval)
                waited += interval
                continue
            with self._lock:
                return self._adopt(answer, require_refresh=True)

    # -- the token endpoint -------------------------------------------------------------

    def _token_post(self, data: dict[str, str]) -> dict[str, Any]:
        url = f"{self.login_url}/services/oauth2/token"
        try:
            reply = self._http.post(url, data=data, headers={"Accept": "application/json"},
                                    timeout=self._timeout)
        except requests.RequestException as exc:
            raise SalesforceUnavailable(f"Salesforce sign-in ({self.login_url}) cannot be "
                                        f"reached ({type(exc).__name__}).",
                                        NETWORK_BACKOFF) from None
        try:
            body = reply.json()
        except ValueError:
            body = None
        if reply.status_code >= 500 or not isinstance(body, dict):
            raise SalesforceUnavailable(f"Salesforce sign-in answered HTTP {reply.status_code} "
                                        "without usable data; trying again later.",
                                        NETWORK_BACKOFF)
        if reply.status_code != 200 or "error" in body:
            raise _OAuthRefused(str(body.get("error", reply.status_code)),
                                str(body.get("error_description", "")))
        return body

    def _adopt(self, answer: dict[str, Any], *, require_refresh: bool,
               old_refresh: str | None = None) -> OrgSession:
        """Turn a token answer into the current session (the caller holds the lock)."""
        access, instance = answer.get("access_token"), answer.get("instance_url")
        if not isinstance(access, str) or not access or not isinstance(instance, str):
            raise SalesforceUnavailable("Salesforce's token answer has no access token or "
                                        "instance URL.", NETWORK_BACKOFF)
        instance = instance.rstrip("/")
        if urlparse(instance).scheme not in {"https", urlparse(self.login_url).scheme}:
            raise CrmError(f"Salesforce named an instance URL Switchboard will not use: "
                           f"{instance!r}")
        refresh = answer.get("refresh_token")
        if require_refresh and not refresh:
            raise CrmError("Salesforce gave no refresh token: the External Client App must "
                           "allow the scopes `refresh_token` and `api`.")
        if isinstance(refresh, str) and refresh and refresh != old_refresh:
            # Persist first: once the org rotated, the old refresh token is already dead.
            self._store.set(self._key, refresh)
        org_id, user_id = _identity(answer.get("id"))
        self._session = OrgSession(access, instance, org_id, user_id)
        return self._session


def _identity(url: object) -> tuple[str, str]:
    """(org id, user id) from the identity URL `https://login…/id/<org>/<user>`."""
    parts = urlparse(url).path.split("/") if isinstance(url, str) else []
    if len(parts) >= 4 and parts[-3] == "id":
        return parts[-2], parts[-1]
    return "", ""
