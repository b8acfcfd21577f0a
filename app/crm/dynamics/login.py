"""`switchboard crm login` / `crm logout` for Dynamics 365, in a terminal.

Sign-in is the same as in the app (app/crm/dynamics/auth.py): the system browser with a
loopback redirect, or the device code when no browser can be opened or
`dynamics.sign_in = "device_code"` (or `--device-code`) asks for it. The token cache goes
where the running app reads it (the profile's data directory). Nothing secret is printed:
the device code is a one-time code for the agent to type, not a token.
"""

from __future__ import annotations

import sys
from typing import TextIO

from app.config import Settings
from app.core.crm import CrmError
from app.crm.dynamics.auth import DeviceCode, open_token_cache
from app.crm.dynamics.factory import TOKEN_CACHE_NAME, build
from app.paths import Profile


def login(settings: Settings, profile: Profile, *, device_code: bool = False,
          out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Sign in interactively; 0 when signed in, 1 when not, 2 for a setting to fix."""
    if not settings.dynamics.org_url:
        print("Set dynamics.org_url (and dynamics.client_id, dynamics.tenant) in "
              f"{profile.config_path} first.", file=err)
        return 2
    try:
        parts = build(settings.dynamics, region=settings.phone.default_region,
                      data_dir=profile.data_dir)
    except CrmError as exc:
        print(f"switchboard crm login: {exc}", file=err)
        return 2
    if parts.cache_warning:
        print(parts.cache_warning, file=err)

    def show(code: DeviceCode) -> None:
        print(code.message, file=out, flush=True)

    prefer_browser = settings.dynamics.sign_in == "browser" and not device_code
    try:
        user = parts.auth.sign_in(show, prefer_browser=prefer_browser)
    except CrmError as exc:
        print(f"switchboard crm login: {exc}", file=err)
        return 1
    print(f"Signed in to Dynamics 365 ({parts.auth.org_url}) as {user or 'your account'}.",
          file=out)
    return 0


def sign_in_state(profile: Profile) -> str:
    """What `switchboard doctor` says about the sign-in: read from the token cache only
    (building msal would already fetch the authority's OpenID configuration)."""
    import msal

    path = profile.data_dir / TOKEN_CACHE_NAME
    if not path.exists():
        return "not signed in: run `switchboard crm login` (callers are not looked up until then)"
    cache, warning = open_token_cache(path)
    accounts = list(cache.search(msal.TokenCache.CredentialType.ACCOUNT))
    if not accounts:
        return "not signed in: run `switchboard crm login` (callers are not looked up until then)"
    who = accounts[0].get("username") or "an account"
    return (f"signed in as {who} (saved sign-in; Dynamics is not asked here)"
            + (" - the saved sign-in is not encrypted" if warning else ""))


def logout(settings: Settings, profile: Profile, *, out: TextIO = sys.stdout,
           err: TextIO = sys.stderr) -> int:
    """Forget the saved sign-in (every account in the token cache)."""
    try:
        parts = build(settings.dynamics, region=settings.phone.default_region,
                      data_dir=profile.data_dir)
        who = parts.auth.username()
        parts.auth.sign_out()
    except CrmError as exc:
        print(f"switchboard crm logout: {exc}", file=err)
        return 1
    print(f"Signed out of Dynamics 365{f' ({who})' if who else ''}; the saved sign-in is "
          "removed.", file=out)
    return 0
