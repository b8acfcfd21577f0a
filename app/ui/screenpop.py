"""The screen-pop pane: a warm QWebEngineView showing built-in CRM pages and dialogs.

Pages come from the `switchboard:` scheme. The handler is thin: it hands the path and
query to a pure `render(path, query) -> (mime, bytes)` (app/crm/local/pages.render bound
to a store by the composition root) and replies. Navigation is policed in one place:
- `switchboard://crm/...` loads in the view;
- `switchboard://action/NAME?...` never loads: it becomes `action_requested(NAME, params)`;
- `tel:`/`sip:`/`callto:` become `action_requested("dial", {"number": ...})`;
- http(s) and mailto links open in the system browser; everything else is dropped.

A CRM with web pages of its own (Salesforce, Dynamics) adds a `CrmWebPage`
(app/ui/crm_web.py, its own persistent profile): `show_url` puts that page in the view and
loads the record there; `show_page` puts the built-in page back. Both pages stay alive,
so switching is instant and the CRM's page keeps its sign-in. A network CRM's pages are
rendered off the GUI thread: `submit` runs the render on the CRM's task lane and the job
is answered when it is done (Qt lets a scheme handler reply later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from app.ui.crm_web import CrmWebPage

log = logging.getLogger(__name__)

SCHEME = b"switchboard"
CRM_HOST = "crm"
ACTION_HOST = "action"
DIAL_SCHEMES = frozenset({"tel", "sip", "callto"})
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})

Renderer = Callable[[str, Mapping[str, str]], tuple[str, bytes]]
Rendered = tuple[str, bytes]
# submit(work, done): run `work` off the GUI thread, then done(result, error) on it.
Submit = Callable[[Callable[[], Rendered],
                   Callable[[Rendered | None, BaseException | None], None]], None]


def register_schemes() -> None:
    """Declare `switchboard:`; must run before the QApplication is created (Qt rule)."""
    if QWebEngineUrlScheme.schemeByName(SCHEME).name() == SCHEME:
        return  # already registered (tests call this once per session)
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    # Secure (a secure context, like https) and nothing more: not LocalScheme (with
    # LocalContentCanAccessFileUrls off, Chromium then refuses link clicks between our own
    # pages with ERR_ACCESS_DENIED), not LocalAccessAllowed (no file: access) and never
    # ContentSecurityPolicyIgnored: the pages' CSP must hold.
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme)
    QWebEngineUrlScheme.registerScheme(scheme)


def _query(url: QUrl) -> dict[str, str]:
    return dict(parse_qsl(url.query(QUrl.ComponentFormattingOption.FullyEncoded),
                          keep_blank_values=True))


class CrmSchemeHandler(QWebEngineUrlSchemeHandler):
    """Answers switchboard://crm/... with whatever `render` returns."""

    def __init__(self, render: Renderer, parent: QObject | None = None, *,
                 submit: Submit | None = None) -> None:
        super().__init__(parent)
        self._render = render
        self._submit = submit  # None: render right here (the built-in CRM's SQLite)

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        if url.host() != CRM_HOST:
            # Action URLs never get here (the page refuses the navigation); anything
            # else under our scheme is a mistake or a probe.
            job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
            return
        path, query = url.path(), _query(url)
        if self._submit is not None:
            self._submit(lambda: self._render(path, query),
                         lambda result, error: self._finish(job, url, result, error))
            return
        try:
            result = self._render(path, query)
        except Exception as exc:  # the view must show something, never hang
            self._finish(job, url, None, exc)
            return
        self._finish(job, url, result, None)

    def _finish(self, job: QWebEngineUrlRequestJob, url: QUrl, result: Rendered | None,
                error: BaseException | None) -> None:
        if not shiboken6.isValid(job):
            return  # Chromium dropped the request meanwhile (the pane moved on)
        if result is None:
            log.error("rendering %s failed: %r", url.path(), error)
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        mime, body = result
        buffer = QBuffer(job)  # lives as long as the job
        buffer.setData(QByteArray(body))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(mime.encode("ascii")), buffer)


class ScreenPopPage(QWebEnginePage):
    """Decides every navigation: load, turn into an intent, or send to the browser."""

    def __init__(self, profile: QWebEngineProfile, view: ScreenPopView) -> None:
        super().__init__(profile, view)
        self._view = view

    def acceptNavigationRequest(self, url: QUrl | str,
                                nav_type: QWebEnginePage.NavigationType,
                                is_main_frame: bool) -> bool:
        url = QUrl(url)
        scheme = url.scheme().lower()
        if scheme == SCHEME.decode():
            if url.host() == CRM_HOST:
                return True
            if url.host() == ACTION_HOST:
                self._view.action_requested.emit(url.path().strip("/"), _query(url))
            return False
        if scheme in DIAL_SCHEMES:  # the whole link: the strict link parser reads it
            self._view.action_requested.emit("dial", {"number": url.toString()})
            return False
        if scheme in EXTERNAL_SCHEMES:
            self._view.open_external(url)
            return False
        if scheme == "about" and url.path() == "blank":
            return True
        log.warning("refused navigation to %s", url.toString())
        return False

    def createWindow(self, _type: QWebEnginePage.WebWindowType  # type: ignore[override]
                     ) -> QWebEnginePage | None:
        return None  # no pop-up windows; links with target=_blank do nothing

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel,
                                 message: str, line: int, source: str) -> None:
        # CSP violations end up here: keep them in our log, not on stderr.
        log.debug("page console (%s:%d): %s", source, line, message)


class ScreenPopView(QWebEngineView):
    """The pane. Create once at start-up and keep it: Chromium start-up is the slow part.

    `action_requested(name, params)` is an intent from a page button ("new-case",
    "choose-case", "open", "attach-number", "new-contact", "regarding", "dial", ...).
    """

    action_requested = Signal(str, dict)

    def __init__(self, render: Renderer, *, storage_dir: Path | None = None,
                 open_external: Callable[[QUrl], object] | None = None,
                 submit: Submit | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if storage_dir is None:
            self._profile = QWebEngineProfile(self)  # off the record: nothing on disk
        else:
            self._profile = QWebEngineProfile("screenpop", self)
            self._profile.setPersistentStoragePath(str(storage_dir / "storage"))
            self._profile.setCachePath(str(storage_dir / "cache"))
        self._handler = CrmSchemeHandler(render, self, submit=submit)
        self._profile.installUrlSchemeHandler(SCHEME, self._handler)
        self._open_external = open_external or QDesktopServices.openUrl
        page = ScreenPopPage(self._profile, self)
        settings = page.settings()
        # Pages need no script; CSP forbids it too. Belt and braces.
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptEnabled, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls,
                              False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls,
                              False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.PluginsEnabled, False)
        self.setPage(page)
        self._page = page
        self.web_page: CrmWebPage | None = None

    @property
    def builtin_page(self) -> QWebEnginePage:
        return self._page

    def add_web_page(self, page: CrmWebPage) -> None:
        """The CRM's own web pages (built by the composition root with their profile)."""
        self.web_page = page

    @property
    def showing_web(self) -> bool:
        return self.web_page is not None and self.page() is self.web_page

    def show_url(self, url: str) -> None:
        """Load a CRM web page (a Lightning record) in the CRM's own page."""
        if self.web_page is None:
            raise RuntimeError("this CRM has no web pages of its own")
        if self.page() is not self.web_page:
            self.setPage(self.web_page)
        self.web_page.open(url)

    def load(self, url: QUrl | str) -> None:  # type: ignore[override]  # URLs only
        # Built-in pages always load in the built-in page, whatever the view showed.
        if self.page() is not self._page:
            self.setPage(self._page)
        self._page.load(QUrl(url))

    def open_external(self, url: QUrl) -> None:
        self._open_external(url)

    @staticmethod
    def crm_url(path: str, query: Mapping[str, str] | None = None) -> QUrl:
        text = f"switchboard://{CRM_HOST}/{path.lstrip('/')}"
        if query:
            text += "?" + urlencode(dict(query))
        return QUrl(text)

    def show_idle(self) -> None:
        self.load(self.crm_url("idle"))

    def show_looking_up(self, number: str) -> None:
        self.load(self.crm_url("looking-up", {"number": number}))

    def show_error(self, message: str) -> None:
        """The CRM failed: say so plainly; the call itself is unaffected."""
        self.load(self.crm_url("error", {"message": message}))

    def show_page(self, path: str, query: Mapping[str, str] | None = None) -> None:
        """A record (`contact/42`) or a dialog (`dialog`, {kind, number, queue, call})."""
        self.load(self.crm_url(path, query))

    def close_down(self) -> None:
        """Delete the page, then its profile, then the view (the app is quitting).

        Order matters: a profile released while a page still uses it makes Qt warn "Expect
        troubles", and a page-less view left alive would make itself a new default page.
        """
        web_profile = self.web_page.profile() if self.web_page is not None else None
        if self.web_page is not None:
            shiboken6.delete(self.web_page)
            self.web_page = None
        shiboken6.delete(self._page)
        self._profile.deleteLater()  # after Chromium has let go of the page
        if web_profile is not None:
            web_profile.deleteLater()
        self.deleteLater()
