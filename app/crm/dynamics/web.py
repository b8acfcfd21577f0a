"""The Dynamics 365 model-driven app in the screen-pop: which URLs are the environment, which
record a page shows, and how to ask an open form whether it holds unsaved edits.

Records open as `<org>/main.aspx?pagetype=entityrecord&etn=<table>&id=<guid>` ("Open forms,
views, dialogs, and reports with a URL"). The environment's own host loads in the view, and
so does Entra ID's sign-in (the web app signs the agent in through it: the configured
authority host and Microsoft's account hosts); anything else opens in the system browser.

The unsaved-edits check asks the form itself: Client API `formContext.data.entity.
getIsDirty()`, reached through the global `Xrm.Page` the model-driven app keeps for the open
form. `Xrm` is a variable of the page's own script, which Qt's isolated world cannot see,
so this check runs in the page's main world (`DIRTY_WORLD`). It only reads, and only an
answer of exactly `true` counts: a page can at worst lie about its own edits.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from app.core.crm import RecordKind
from app.crm.dynamics.records import LOGICAL

# Microsoft's sign-in pages the web app may pass through (besides the configured authority).
SIGN_IN_HOSTS = frozenset({"login.microsoftonline.com", "login.microsoft.com",
                           "login.live.com", "login.windows.net"})
DIRTY_WORLD = "main"  # see the module docstring
DIRTY_SCRIPT = """(function () {
  try {
    var page = window.Xrm && window.Xrm.Page;
    var entity = page && page.data && page.data.entity;
    if (entity && typeof entity.getIsDirty === "function") {
      return entity.getIsDirty() === true;
    }
  } catch (e) { return null; }
  return null;
})()"""
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12})\}?$")
_KINDS = {logical: kind.value for kind, logical in LOGICAL.items()
          if kind is not RecordKind.ACTIVITY}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


class DynamicsWeb:
    """The environment's web side, from its address and the sign-in host (no I/O)."""

    def __init__(self, org_url: str, authority_host: str) -> None:
        self.org = _origin(org_url)
        self.authority = _origin(f"https://{authority_host}")

    def inside(self, url: str) -> bool:
        """True when `url` is one of the environment's pages or its sign-in."""
        origin = _origin(url)
        if origin[0] not in ("http", "https") or not origin[1]:
            return False
        if origin == self.org:
            return True
        return origin[0] == "https" and (origin == self.authority
                                         or origin[1] in SIGN_IN_HOSTS)

    def record_of(self, url: str) -> str:
        """`contact/<guid>` for a record form of the environment, "" for any other page."""
        if _origin(url) != self.org or not urlsplit(url).path.endswith("/main.aspx"):
            return ""
        query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        kind = _KINDS.get(query.get("etn", ""))
        match = _GUID.match(query.get("id", ""))
        if query.get("pagetype") != "entityrecord" or kind is None or match is None:
            return ""
        return f"{kind}/{match.group(1).lower()}"


__all__ = ["DIRTY_SCRIPT", "DIRTY_WORLD", "DynamicsWeb"]
