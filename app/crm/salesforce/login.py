"""`switchboard crm login` / `crm logout` for Salesforce.

Login opens the system browser on the org's authorize page (PKCE) and waits for the
answer on `http://localhost:<salesforce.redirect_port>/callback`; the authorize URL is
printed too, for a browser on the same computer that did not open by itself. With
`--device`, or when Python knows no browser to open, the device flow is used instead:
a code to enter at the org's verification page from any device. The refresh token goes
to the keyring (through the SecretStore passed in), the access token stays in memory and
dies with the command; neither is ever printed. The org's API version is checked before
saying "signed in". Logout revokes the refresh token in the org and deletes it here,
and deletes the Salesforce web profile (the org's cached pages and their storage; its
cookies never reach the disk, see app/crm/salesforce/web.py).
"""

from __future__ import annotations

import shutil
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from app.config import Settings
from app.core.crm import CrmError
from app.crm.salesforce import factory
from app.secrets import SecretStore, SecretStoreUnavailable

SIGN_IN_TIMEOUT = 300.0  # seconds the agent has to finish in the browser


def _no_keyring(exc: SecretStoreUnavailable) -> str:
    return f"Salesforce's sign-in is kept only in the system keyring, and none is usable: {exc}"


def has_browser() -> bool:
    """Whether Python's webbrowser module knows a browser to open here."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def login(settings: Settings, secrets: SecretStore, *, device: bool, out: TextIO,
          open_url: Callable[[str], object] = webbrowser.open,
          timeout: float = SIGN_IN_TIMEOUT) -> int:
    """Sign in; 0 when signed in, 1 when the sign-in failed, 2 for a setting to fix."""
    sf = settings.salesforce
    if not sf.client_id:
        print("Set salesforce.client_id (the External Client App's consumer key) in "
              "config.toml first.", file=out)
        return 2
    parts = factory.build(sf, region=settings.phone.default_region, secret_store=secrets)
    auth = parts.auth
    try:
        auth.signed_in  # noqa: B018 - asks the keyring now, not after the browser
    except SecretStoreUnavailable as exc:
        print(_no_keyring(exc), file=out)
        return 1
    try:
        if device or not has_browser():
            flow = auth.start_device_flow()
            print(f"On any device, open {flow.verification_uri} and enter the code "
                  f"{flow.user_code}. Waiting…", file=out, flush=True)
            session = auth.finish_device_flow(flow)
        else:
            def show(url: str) -> None:
                print("Sign in to Salesforce in your web browser. If it did not open, open "
                      f"this address on this computer:\n{url}", file=out, flush=True)
                open_url(url)
            session = auth.sign_in_with_browser(show, timeout=timeout)
        parts.client.check_version()
    except CrmError as exc:
        print(f"Salesforce sign-in failed: {exc}", file=out)
        return 1
    except SecretStoreUnavailable as exc:
        print(_no_keyring(exc), file=out)
        return 1
    print(f"Signed in to Salesforce ({session.instance_url}); the sign-in is kept in the "
          "system keyring.", file=out)
    return 0


def sign_in_state(settings: Settings, secrets: SecretStore) -> str:
    """What `switchboard doctor` says about the sign-in, without asking the org."""
    try:
        stored = secrets.get(factory.secret_key(settings.salesforce))
    except SecretStoreUnavailable:
        return "not signed in: the sign-in needs the system keyring (see keyring above)"
    if stored:
        return "signed in (a refresh token in the keyring; the org is not asked here)"
    return "not signed in: run `switchboard crm login` (callers are not looked up until then)"


def logout(settings: Settings, secrets: SecretStore, *, out: TextIO,
           web_dir: Path | None = None) -> int:
    """Revoke and delete the sign-in; delete `web_dir`, the web profile, when given."""
    parts = factory.build(settings.salesforce, region=settings.phone.default_region,
                          secret_store=secrets)
    if web_dir is not None and web_dir.exists():
        # The org's pages and data as the web view cached them: not for the next user.
        shutil.rmtree(web_dir, ignore_errors=True)
    try:
        revoked = parts.auth.revoke()
    except SecretStoreUnavailable as exc:
        print(_no_keyring(exc), file=out)
        return 1
    if revoked:
        print("Signed out of Salesforce; the sign-in was revoked and deleted.", file=out)
        return 0
    print("Signed out here; Salesforce could not be told (sign-in deleted from the keyring "
          "anyway; an admin can revoke it in the org).", file=out)
    return 1


__all__ = ["has_browser", "login", "logout", "sign_in_state"]
