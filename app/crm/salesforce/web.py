"""The Salesforce org's web pages in the screen-pop: which URLs are the org, which record
a page shows, how the pages get their web session, and how to ask a Lightning page
whether it holds unsaved edits.

The web session is bridged from Switchboard's own OAuth session (Salesforce Help "Using
Frontdoor.jsp to Bridge an Existing Session Into Salesforce"; the `web` scope allows
it): the first record of a run, and the first after the access token changed (the org
ended the session and we refreshed), is opened through a POST of the access token (`sid`)
and the record's path (`retURL`) to `{instance}/secur/frontdoor.jsp`, in the request
body, never in a URL. So the agent signs in once (`crm login` or the sign-in bar) and
the pages follow, and the web profile needs no cookie on disk: Salesforce's session
cookie is a credential, and nothing secret is written to disk (the web profile keeps its
cookies in memory only; see app/compose.py).

Which hosts belong to an org follows Salesforce Help "My Domain URL Formats": the org's
My Domain name is the first label of its instance host (`acme.my.salesforce.com`), and
its other pages live on hosts of Salesforce's domains whose first label is that name or
starts with `name--` (`acme.lightning.force.com`, `acme--c.vf.force.com`,
`acme.file.force.com`). A link the agent clicks to anything else (a customer's website
in a field, another org) opens in the system browser; redirects (a company's single
sign-on) still load in place (app/ui/crm_web.py).

The unsaved-edits check runs in Qt's isolated world (the org's scripts cannot change
it). GUESSED, to be checked against a live org: Lightning marks a field changed in
inline edit with `slds-is-edited`, and its edit footers/panels carry the class and
element names listed in `_EDIT_MARKERS`; besides those, any form field whose value
differs from its default counts (the DOM walk enters open shadow roots).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from app.crm.salesforce.auth import OrgSession
from app.crm.salesforce.records import OBJECTS

SALESFORCE_DOMAINS = (".salesforce.com", ".force.com", ".visualforce.com",
                      ".salesforce-setup.com", ".documentforce.com", ".salesforce-sites.com",
                      ".site.com", ".cloudforce.com")
SIGN_IN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})
_RECORD_PATH = re.compile(r"^/lightning/r/(?P<object>\w+)/(?P<id>[A-Za-z0-9]{15,18})/view/?$")
_KINDS = {sobject: kind.value for kind, sobject in OBJECTS.items()}
_EDIT_MARKERS = (".slds-is-edited, records-record-edit-error-header, "
                 ".forceRecordEditActions, .inlineFooter, [data-switchboard-dirty]")

DIRTY_SCRIPT = """(() => {
  const markers = MARKERS;
  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image', 'file', 'search']);
  const changed = (el) => {
    if (el instanceof HTMLInputElement) {
      if (skip.has(el.type)) return false;
      if (el.type === 'checkbox' || el.type === 'radio') return el.checked !== el.defaultChecked;
      return el.value !== el.defaultValue;
    }
    if (el instanceof HTMLTextAreaElement) return el.value !== el.defaultValue;
    if (el instanceof HTMLSelectElement)
      return [...el.options].some((o) => o.selected !== o.defaultSelected);
    return el.isContentEditable && el.hasAttribute('data-switchboard-edited');
  };
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.matches(markers) || changed(el)) return true;
      if (el.shadowRoot && walk(el.shadowRoot)) return true;
    }
    return false;
  };
  return walk(document);
})()""".replace("MARKERS", repr(_EDIT_MARKERS))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _salesforce_host(host: str) -> bool:
    return any(host.endswith(d) for d in SALESFORCE_DOMAINS)


WEB_NAME = "salesforce"  # of the web profile and its folder under the profile's data/web
FRONTDOOR_PATH = "/secur/frontdoor.jsp"


def web_dir(data_dir: Path) -> Path:
    """Where the Salesforce web profile keeps its cache and storage (never cookies)."""
    return data_dir / "web" / WEB_NAME


class OrgWeb:
    """The org's web side; reads the current session in memory (no I/O)."""

    def __init__(self, login_url: str, current: Callable[[], OrgSession | None]) -> None:
        self.login_url = login_url
        self._current = current
        self._bridged = ""  # the access token the web session was last bridged with

    def sign_in_request(self, url: str) -> tuple[str, dict[str, str]] | None:
        """The frontdoor.jsp POST (URL, form) that opens `url` with a web session made
        from our OAuth session, or None: the web session is already bridged with the
        current access token (or there is no session yet: the page loads as it is)."""
        session = self._current()
        if session is None or session.access_token == self._bridged:
            return None
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != tuple(urlsplit(session.instance_url)[:2]):
            return None  # not a page of this instance: no session goes there
        self._bridged = session.access_token
        back = parts.path + (f"?{parts.query}" if parts.query else "")
        return session.instance_url + FRONTDOOR_PATH, {"sid": session.access_token,
                                                      "retURL": back}

    def inside(self, url: str) -> bool:
        """True when `url` is one of the org's own pages (loads in the view)."""
        scheme, host, port = _origin(url)
        if scheme not in ("http", "https") or not host:
            return False
        session = self._current()
        known = {_origin(self.login_url)}
        if session is not None:
            known.add(_origin(session.instance_url))
        if (scheme, host, port) in known:
            return True
        if scheme != "https" or not _salesforce_host(host):
            return False
        if host in SIGN_IN_HOSTS:
            return True
        label = host.split(".")[0]
        names = {h.split(".")[0] for _s, h, _p in known if _salesforce_host(h)}
        return any(label == n or label.startswith(n + "--") for n in names)

    @staticmethod
    def record_of(url: str) -> str:
        """`contact/003…` for a Lightning record page URL, "" for any other page."""
        match = _RECORD_PATH.match(urlsplit(url).path)
        if match is None or match.group("object") not in _KINDS:
            return ""
        return f"{_KINDS[match.group('object')]}/{match.group('id')}"


__all__ = ["DIRTY_SCRIPT", "FRONTDOOR_PATH", "WEB_NAME", "OrgWeb", "web_dir"]
