"""An outside CRM's own web pages (Salesforce, Dynamics 365) in a persistent profile of its own.

Shared by the Salesforce and Dynamics screen-pops (merged from both sessions' versions).
One `QWebEngineProfile` per CRM, stored under the profile directory (STYLE.md: one profile
per trust level), so the agent signs in to the CRM's web app once and stays signed in
across restarts; the built-in pages' profile never sees its cookies. The rules come from
the composition root, so this module knows no CRM:
- `tel:`/`sip:`/`callto:` links become `action_requested("dial", {"number": link, "ref":
  record})`, the same intent the built-in pages send, where `record` is what
  `record_of(url of the page)` says the page shows (the call is then linked to it); the
  link itself is parsed by the strict parser (app/core/links.py) before anything dials;
- a link the agent clicks to a page outside the CRM (`inside(url)` false), and every new
  window (target=_blank), opens in the system browser; redirects and form posts (the
  CRM's own sign-in, a company's single sign-on) load in place;
- `open(url)` loads a record; `loaded(url)` says when that load has finished, whatever the
  CRM redirected to. With `sign_in_request(url)` the CRM may ask for that load to be a
  form POST instead (Salesforce's frontdoor.jsp: our session bridged into a web session,
  the token in the request body, not in a URL).
`dirty(answer)` asks the page in front of the agent whether it holds unsaved edits, so the
screen-pop can wait instead of navigating away from them (app/core/screenpop_gate.py).
The probe runs in the world the CRM needs: Qt's isolated ApplicationWorld (shares the DOM,
not the page's variables: the page cannot tamper with it) for a DOM check such as
Salesforce's, the MainWorld for a probe of the page's own API such as Dynamics' `Xrm`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWebEngineCore import (
    QWebEngineHttpRequest,
    QWebEngineLoadingInfo,
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)

log = logging.getLogger(__name__)

DIAL_SCHEMES = frozenset({"tel", "sip", "callto"})
WEB_SCHEMES = frozenset({"http", "https"})
UNSAVED_ANSWER_MS = 1500  # a page that does not answer the probe is taken as clean
# url → (URL to POST to, form fields) to open `url` signed in, or None: load it as it is.
SignInRequest = Callable[[str], "tuple[str, Mapping[str, str]] | None"]
World = QWebEngineScript.ScriptWorldId

# Model-driven apps keep the open form's state in `Xrm` (Client API: formContext.data.entity
# .getIsDirty; Xrm.Page is its deprecated global form). `Xrm` is a variable of the page's own
# script, and Qt's isolated ApplicationWorld shares the DOM but not the page's variables, so
# this probe runs in the main world. It only reads: a page can at worst lie about its own
# edits, and only an answer of exactly `true` counts.
XRM_UNSAVED_PROBE = """(function () {
  try {
    var page = window.Xrm && window.Xrm.Page;
    var entity = page && page.data && page.data.entity;
    if (entity && typeof entity.getIsDirty === "function") {
      return entity.getIsDirty() === true;
    }
  } catch (e) { return null; }
  return null;
})()"""


def persistent_profile(name: str, storage_dir: Path, parent: QObject | None = None, *,
                       cookies_on_disk: bool = True) -> QWebEngineProfile:
    """A named profile whose storage and cache outlive the app, under `storage_dir`
    (made private to the user: 0700).

    `cookies_on_disk`: the CRM's web-session cookies (its sign-in) are kept by Chromium
    too, so the agent signs in to the CRM's pages once. False: cookies live in memory
    only, for a CRM whose web session the app bridges from its own sign-in at every
    start (Salesforce), so no session credential is ever written to disk.
    """
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage_dir.chmod(0o700)
    profile = QWebEngineProfile(name, parent)
    profile.setPersistentStoragePath(str(storage_dir / "storage"))
    profile.setCachePath(str(storage_dir / "cache"))
    policy = QWebEngineProfile.PersistentCookiesPolicy
    # A CRM sign-in lives in session cookies: forced to disk, or kept off it entirely.
    profile.setPersistentCookiesPolicy(policy.ForcePersistentCookies if cookies_on_disk
                                       else policy.NoPersistentCookies)
    return profile


def crm_hosts(*urls: str) -> list[str]:
    """The host names of `urls` (the CRM's address and its sign-in service)."""
    return [QUrl(u).host() for u in urls if u]


class _ExternalWindow(QWebEnginePage):
    """Stands in for a window the CRM page opens: its first URL goes to the browser."""

    def __init__(self, profile: QWebEngineProfile, open_external: Callable[[QUrl], object],
                 parent: QObject) -> None:
        super().__init__(profile, parent)
        self._open_external = open_external

    def acceptNavigationRequest(self, url: QUrl | str,
                                nav_type: QWebEnginePage.NavigationType,
                                is_main_frame: bool) -> bool:
        url = QUrl(url)
        if url.scheme().lower() in WEB_SCHEMES:
            self._open_external(url)
        self.deleteLater()
        return False


class CrmWebPage(QWebEnginePage):
    """The CRM's record pages. `loaded(url)`: the page asked for with `open(url)` is up."""

    action_requested = Signal(str, dict)  # ("dial", {"number": link, "ref": record})
    loaded = Signal(str)

    def __init__(self, profile: QWebEngineProfile, crm_hosts: Collection[str] = (), *,
                 inside: Callable[[str], bool] | None = None,
                 record_of: Callable[[str], str] | None = None,
                 unsaved_probe: str = XRM_UNSAVED_PROBE, probe_world: int = World.MainWorld,
                 open_external: Callable[[QUrl], object] | None = None,
                 sign_in_request: SignInRequest | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self._sign_in_request = sign_in_request
        self._hosts = frozenset(h.lower() for h in crm_hosts if h)
        self._inside = inside  # None: the hosts above (and their subdomains) are the CRM
        self._record_of = record_of or (lambda _url: "")
        self._probe = unsaved_probe
        self._probe_world = probe_world
        self._open_external = open_external or QDesktopServices.openUrl
        self._wanted = ""  # the URL open() asked for, until its load finishes
        self.loadingChanged.connect(self._loading_changed)
        settings = self.settings()
        # The CRM's pages are its own application: script on, no plug-ins, no local files.
        settings.setAttribute(QWebEngineSettings.WebAttribute.PluginsEnabled, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls,
                              False)

    def is_inside(self, url: QUrl) -> bool:
        if self._inside is not None:
            return self._inside(url.toString())
        host = url.host().lower()
        return any(host == h or host.endswith("." + h) for h in self._hosts)

    @property
    def showing_page(self) -> bool:
        """Whether a CRM page (not the blank start) is loaded."""
        return self.url().scheme().lower() in WEB_SCHEMES

    def open(self, url: str) -> None:
        self._wanted = url
        post = self._sign_in_request(url) if self._sign_in_request is not None else None
        if post is None:
            self.load(QUrl(url))
            return
        target, form = post  # the CRM redirects to `url` once the web session is made
        self.load(QWebEngineHttpRequest.postRequest(QUrl(target), dict(form)))

    def acceptNavigationRequest(self, url: QUrl | str,
                                nav_type: QWebEnginePage.NavigationType,
                                is_main_frame: bool) -> bool:
        url = QUrl(url)
        scheme = url.scheme().lower()
        if scheme in DIAL_SCHEMES:
            params = {"number": url.toString(QUrl.ComponentFormattingOption.FullyEncoded)}
            record = self._record_of(self.url().toString())
            if record:
                params["ref"] = record
            self.action_requested.emit("dial", params)
            return False
        if scheme == "about":
            return True
        if scheme not in WEB_SCHEMES:
            self._open_external(url)
            return False
        clicked = nav_type is QWebEnginePage.NavigationType.NavigationTypeLinkClicked
        if clicked and is_main_frame and not self.is_inside(url):
            self._open_external(url)  # a link out of the CRM: the agent's browser
            return False
        return True

    def createWindow(self, _type: QWebEnginePage.WebWindowType  # type: ignore[override]
                     ) -> QWebEnginePage | None:
        # Pop-ups and target=_blank links: the agent gets them in the system browser.
        return _ExternalWindow(self.profile(), self._open_external, self)

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel,
                                 message: str, line: int, source: str) -> None:
        log.debug("crm page console (%s:%d): %s", source, line, message[:200])

    def dirty(self, answer: Callable[[bool], None]) -> None:
        """`answer(True)` when the page in front of the agent has unsaved edits.

        Answered once on the GUI thread: from the page, or False when no CRM page is up
        or it does not answer within UNSAVED_ANSWER_MS.
        """
        if not self.showing_page:
            answer(False)
            return
        done = [False]

        def once(value: object) -> None:
            if not done[0]:
                done[0] = True
                answer(value is True)

        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: once(False))
        timer.timeout.connect(timer.deleteLater)
        timer.start(UNSAVED_ANSWER_MS)
        self.runJavaScript(self._probe, self._probe_world, once)

    def _loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        log.debug("crm page load %s (%s)", info.status().name, info.url().host())
        if info.status() is QWebEngineLoadingInfo.LoadStatus.LoadSucceededStatus \
                and self._wanted:
            # Whatever the CRM redirected to (an app id added, a sign-in round trip): the
            # record asked for is what the agent now sees.
            wanted, self._wanted = self._wanted, ""
            self.loaded.emit(wanted)


__all__ = ["XRM_UNSAVED_PROBE", "CrmWebPage", "crm_hosts", "persistent_profile"]
