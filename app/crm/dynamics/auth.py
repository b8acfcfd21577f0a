"""Entra ID sign-in for Dynamics 365 with msal as a public client, and where its tokens live.

Interactive sign-in opens the system browser and takes the answer on a loopback redirect
(`http://localhost:<port>`, auth code + PKCE, through msal's auth-code-flow API so that the
browser opener is ours and the wait can be cancelled); when no browser can be opened, the
device code flow is the fallback. Afterwards `access_token()` is silent (cache, then the
refresh token). Every method here may block on the network: the caller runs it off the GUI
thread (DESIGN.md: a ringing call never waits for the network).

The token cache is several kilobytes, too big for the Windows credential store, so it is
persisted through msal-extensions: DPAPI on Windows, Keychain on macOS, libsecret on Linux.
Where no secret service exists it falls back to a 0600 file and says so (`cache_warning`).
Tokens are never logged, and never written to the config or a database.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import msal
import requests

from app.core.crm import CrmError, CrmSignInRequired, CrmUnavailable

log = logging.getLogger(__name__)

# Hosts msal knows; for any other host instance discovery is turned off, or msal would ask
# login.microsoftonline.com about it (measured: tests/unit/crm/test_dynamics_auth.py).
KNOWN_AUTHORITY_HOSTS = msal.authority.WELL_KNOWN_AUTHORITY_HOSTS

PLAIN_CACHE_WARNING = (
    "No system secret store (DPAPI, Keychain or a running GNOME Keyring/KWallet with "
    "libsecret) is available, so the Dynamics 365 sign-in is kept in {path}, readable only "
    "by your user account but not encrypted. Install and unlock a keyring to encrypt it.")


class SignInRequired(CrmSignInRequired):
    """No usable sign-in: the agent must sign in to Dynamics 365 again (calls go on)."""


class SignInFailed(CrmError):
    """The sign-in attempt itself failed; the message says why in the agent's words."""


class BrowserUnavailable(SignInFailed):
    """No system browser could be opened; use the device code flow instead."""


@dataclass(frozen=True)
class DeviceCode:
    """What the agent is shown: go to `verification_uri` and type `user_code`."""

    user_code: str
    verification_uri: str
    message: str
    expires_in: int
    flow: Mapping[str, Any]


def open_token_cache(path: Path) -> tuple[msal.SerializableTokenCache, str | None]:
    """The persisted token cache at `path` and a warning when it could not be encrypted."""
    from msal_extensions import FilePersistence, PersistedTokenCache, build_encrypted_persistence

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        persistence = build_encrypted_persistence(str(path))
        return PersistedTokenCache(persistence), None
    except Exception as exc:  # any failure of the secret store means "there is none"
        log.warning("dynamics token cache: no encrypted store (%s: %s); using a 0600 file",
                    type(exc).__name__, exc)
    # FilePersistence creates the file 0600; an older file may be wider, so narrow it.
    if path.exists():
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    else:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return PersistedTokenCache(FilePersistence(str(path))), PLAIN_CACHE_WARNING.format(
        path=path)


class _MsalHttp:
    """msal's HTTP client interface over our Session: a timeout and `verify` on every call.

    `verify` is passed per request because requests ignores `Session.verify` when
    REQUESTS_CA_BUNDLE is set (psf/requests#3829).
    """

    def __init__(self, session: requests.Session, timeout: float, verify: bool | str) -> None:
        self.session, self.timeout, self.verify = session, timeout, verify

    def get(self, url: str, params: Any = None, headers: Any = None,
            **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.verify)
        return self.session.get(url, params=params, headers=headers, **kwargs)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.verify)
        return self.session.post(url, params=params, data=data, headers=headers, **kwargs)

    def close(self) -> None:
        pass  # the Session belongs to whoever made it


class _RedirectHandler(BaseHTTPRequestHandler):
    """Takes Entra ID's answer, which the browser POSTs here (response_mode=form_post)."""

    timeout = 5  # a browser's idle pre-connection must not hold up the wait loop

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the answer holds the authorization code: never log it

    def do_GET(self) -> None:
        self._reply(404, "")  # favicon and friends; the answer never comes in a URL

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if "code" not in form and "error" not in form:
            self._reply(400, "")
            return
        self.server.answer = form  # type: ignore[attr-defined]
        self._reply(200, "Signed in to Dynamics 365. You can close this tab and return to "
                    "Switchboard." if "code" in form else "Sign-in did not complete: "
                    + form.get("error_description", form.get("error", "")))

    def _reply(self, status: int, text: str) -> None:
        body = f"<html><body><p>{_html(text)}</p></body></html>".encode() if text else b""
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class DynamicsAuth:
    """Sign-in and tokens for one Dynamics 365 environment. Thread-safe; blocking."""

    def __init__(self, *, org_url: str, client_id: str, tenant: str,
                 authority_host: str = "login.microsoftonline.com",
                 cache: msal.SerializableTokenCache, session: requests.Session,
                 redirect_port: int = 0, timeout: float = 20.0, verify: bool | str = True,
                 open_browser: Callable[[str], bool] = webbrowser.open) -> None:
        if not client_id:
            raise SignInFailed("dynamics.client_id is empty: the tenant admin registers "
                               "Switchboard in Entra ID and gives you its client id.")
        self.org_url = org_url.rstrip("/")
        self.scopes = [f"{self.org_url}/user_impersonation"]
        self.client_id = client_id
        self.authority = f"https://{authority_host}/{tenant or 'organizations'}"
        self._known = authority_host.lower() in KNOWN_AUTHORITY_HOSTS
        self.cache = cache
        self.redirect_port = redirect_port
        self.open_browser = open_browser
        self._http = _MsalHttp(session, timeout, verify)
        self._app: msal.PublicClientApplication | None = None
        self._lock = threading.Lock()

    def _msal(self) -> msal.PublicClientApplication:
        # Built lazily: the constructor already fetches the OpenID configuration.
        with self._lock:
            if self._app is None:
                try:
                    self._app = msal.PublicClientApplication(
                        self.client_id, authority=self.authority, token_cache=self.cache,
                        http_client=self._http, instance_discovery=self._known)
                except requests.RequestException as exc:
                    raise SignInRequired(f"Cannot reach the Microsoft sign-in service at "
                                         f"{self.authority} ({type(exc).__name__}).") from exc
                except ValueError as exc:  # msal: the authority answered, but not for us
                    raise SignInFailed(f"The Microsoft sign-in service does not accept "
                                       f"{self.authority}: check dynamics.tenant and "
                                       f"dynamics.authority_host ({_first_line(str(exc))})."
                                       ) from exc
            return self._app

    # -- who is signed in ----------------------------------------------------------------------

    def username(self) -> str | None:
        accounts = self._msal().get_accounts()
        return accounts[0].get("username") if accounts else None

    def sign_out(self) -> None:
        app = self._msal()
        for account in app.get_accounts():
            app.remove_account(account)

    # -- tokens --------------------------------------------------------------------------------

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token without any UI; SignInRequired when that is impossible."""
        app = self._msal()
        accounts = app.get_accounts()
        if not accounts:
            raise SignInRequired("Sign in to Dynamics 365 to identify callers and log calls.")
        try:
            result = app.acquire_token_silent(self.scopes, accounts[0],
                                              force_refresh=force_refresh)
        except requests.RequestException as exc:
            raise CrmUnavailable(f"Cannot reach the Microsoft sign-in service ({exc}).") \
                from exc
        if result and "access_token" in result:
            return str(result["access_token"])
        reason = (result or {}).get("error_description", "the saved sign-in has expired")
        log.info("dynamics: silent token failed: %s", (result or {}).get("error", "no token"))
        raise SignInRequired(f"Sign in to Dynamics 365 again ({_first_line(reason)}).")

    # -- interactive ---------------------------------------------------------------------------

    def sign_in_browser(self, *, timeout: float = 300.0,
                        cancel: threading.Event | None = None) -> str:
        """Sign in through the system browser; returns the user name.

        BrowserUnavailable when no browser opens (then use the device code);
        SignInFailed when the agent cancels, the time runs out or Entra ID refuses.
        """
        app = self._msal()
        server = HTTPServer(("127.0.0.1", self.redirect_port), _RedirectHandler)
        server.answer = None  # type: ignore[attr-defined]
        server.timeout = 0.25  # how often the wait below looks at `cancel`
        try:
            redirect_uri = f"http://localhost:{server.server_address[1]}"
            # form_post: the code travels in a POST body, not in a URL the browser keeps
            # in its history (RFC 9700 4.3.1; msal warns otherwise).
            flow = app.initiate_auth_code_flow(self.scopes, redirect_uri=redirect_uri,
                                               prompt="select_account",
                                               response_mode="form_post")
            if not self.open_browser(flow["auth_uri"]):
                raise BrowserUnavailable("No web browser could be opened for the sign-in.")
            deadline = time.monotonic() + timeout
            while server.answer is None:  # type: ignore[attr-defined]
                if cancel is not None and cancel.is_set():
                    raise SignInFailed("Sign-in cancelled.")
                if time.monotonic() > deadline:
                    raise SignInFailed("Sign-in took too long; try again.")
                server.handle_request()
            answer = server.answer  # type: ignore[attr-defined]
        finally:
            server.server_close()
        try:
            result = app.acquire_token_by_auth_code_flow(flow, answer, scopes=self.scopes)
        except ValueError as exc:  # state mismatch: not the answer to our request
            raise SignInFailed(f"The sign-in answer did not match the request ({exc}).") \
                from exc
        except requests.RequestException as exc:
            raise SignInRequired(f"Cannot reach the Microsoft sign-in service ({exc}).") \
                from exc
        return self._signed_in(result)

    def start_device_code(self) -> DeviceCode:
        try:
            flow = self._msal().initiate_device_flow(self.scopes)
        except requests.RequestException as exc:
            raise SignInRequired(f"Cannot reach the Microsoft sign-in service ({exc}).") \
                from exc
        if "user_code" not in flow:
            raise SignInFailed("Entra ID refused the device code sign-in: "
                               + _first_line(flow.get("error_description", str(flow))))
        return DeviceCode(flow["user_code"], flow["verification_uri"], flow["message"],
                          int(flow.get("expires_in", 900)), flow)

    def finish_device_code(self, code: DeviceCode, *,
                           cancel: threading.Event | None = None) -> str:
        """Wait (polling as Entra ID asks) until the agent has entered the code."""
        stop = (lambda flow: cancel.is_set()) if cancel is not None else (lambda flow: False)
        try:
            result = self._msal().acquire_token_by_device_flow(dict(code.flow),
                                                               exit_condition=stop)
        except requests.RequestException as exc:
            raise SignInRequired(f"Cannot reach the Microsoft sign-in service ({exc}).") \
                from exc
        if cancel is not None and cancel.is_set() and "access_token" not in result:
            raise SignInFailed("Sign-in cancelled.")
        return self._signed_in(result)

    def sign_in(self, show_device_code: Callable[[DeviceCode], None], *,
                prefer_browser: bool = True, cancel: threading.Event | None = None) -> str:
        """The browser when possible, else the device code shown through the callback."""
        if prefer_browser:
            try:
                return self.sign_in_browser(cancel=cancel)
            except BrowserUnavailable:
                log.info("dynamics: no browser; falling back to the device code")
        code = self.start_device_code()
        show_device_code(code)
        return self.finish_device_code(code, cancel=cancel)

    def _signed_in(self, result: Mapping[str, Any]) -> str:
        if "access_token" not in result:
            raise SignInFailed("Sign-in to Dynamics 365 failed: " + _first_line(
                result.get("error_description") or result.get("error") or "no token"))
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("name") or "")


def _first_line(text: str) -> str:
    # Entra ID descriptions carry "Trace ID: … Correlation ID: …" lines after the reason.
    return (text or "").strip().splitlines()[0] if text else ""
