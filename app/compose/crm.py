"""The composition root's CRM room: which backend `crm.backend` names, and building it.

`choose_crm` turns the settings into a `CrmChoice` (the backend, the task lane it runs on,
its own web pages and sign-in, its presence and callback target) without network traffic;
`build_crm` builds the outbox, the per-call tracker, the screen-pop pane and the CRM wiring
around it. A new CRM backend is one more branch in `choose_crm` (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication

from app.application import Closable
from app.config import Settings
from app.core.crm import CallActivity, CrmBackend, CrmError
from app.core.crm_call import CrmCallTracker
from app.core.outbox import Outbox
from app.core.phone import PhoneSession
from app.core.workflows import Workflow
from app.paths import Profile
from app.secrets import SecretStore
from app.threads import Lane, TaskRunner
from app.ui.main_window import MainWindow

if TYPE_CHECKING:
    from app.core.callbacks import CallbackCrm
    from app.crm.local.store import LocalStore
    from app.wiring.availability import AvailabilityWiring
    from app.wiring.crm import CrmWiring
    from app.wiring.crm_presence import CrmPresence, CrmPresenceWiring

PAGE_BUSY_MS = 200  # the page renderer runs on the GUI thread: never wait long for a lock


def translate_page(text: str) -> str:
    """The built-in CRM pages' words in the UI language (looked up on every render)."""
    from app.crm.local import pages

    return QCoreApplication.translate(pages.TRANSLATION_CONTEXT, text)


@dataclass(frozen=True)
class CrmWeb:
    """A CRM whose records are its own web pages, and how the agent signs in to it."""

    name: str  # of its web profile and storage folder, e.g. "salesforce"
    inside: Callable[[str], bool]  # the URL is one of the CRM's pages (loads in the view)
    record_of: Callable[[str], str]  # URL → "contact/ID" of the record it shows, or ""
    dirty_script: str  # JavaScript (isolated world): true when the page has unsaved edits
    signed_in: Callable[[], bool]  # reads the keyring: call off the GUI thread
    sign_in: Callable[[], object]  # blocking: system browser + loopback (network lane)
    sign_in_text: str
    sign_in_button: str
    # The script reads the page's own variables (Dynamics' Xrm): run it in the main world.
    dirty_in_main_world: bool = False
    # False: the web session is bridged from our sign-in at each start (sign_in_request)
    # and its cookies never go to disk (Salesforce); True: the CRM's own web sign-in is
    # kept on disk in the web profile.
    cookies_on_disk: bool = True
    sign_in_request: Callable[[str], tuple[str, dict[str, str]] | None] | None = None


@dataclass(frozen=True)
class CrmChoice:
    """The CRM backend `crm.backend` names, or why there is none (`problem`)."""

    backend: CrmBackend | None
    lane: Lane = Lane.DB  # where its calls run: SQLite on the database lane
    problem: str | None = None
    web: CrmWeb | None = None  # its own record pages and sign-in (network CRMs)
    # The CRM's own new phone call form for a call nobody was picked for (Dynamics'
    # PhoneCall workflow): the call's log → the form's URL.
    call_form: Callable[[CallActivity], str] | None = None
    # Where callback requests go when not to `backend` itself (Dynamics: phone calls in a
    # queue, app/crm/dynamics/callbacks.py).
    callbacks: CallbackCrm | None = None
    # The CRM's own presence of the agent (Salesforce Omni-Channel), read-only; blocking
    # (the CRM's lane): app/wiring/crm_presence.py mirrors it into availability.
    presence: Callable[[], CrmPresence] | None = None


def choose_crm(settings: Settings, local: LocalStore | None, *,
               secrets: SecretStore | None = None,
               notify: Callable[[str], object] | None = None,
               data_dir: Path | None = None) -> CrmChoice:
    """The configured CRM backend. `local` is the built-in CRM's store (None: no profile).

    Salesforce (app/crm/salesforce/factory.py) is built here without network traffic and
    runs on the network lane; its refresh token comes from `secrets`. `notify(text)` is
    called from a worker thread with messages for the agent (the API quota warning).
    Dynamics 365 (app/crm/dynamics/factory.py) likewise, with its msal token cache in
    `data_dir` (the profile's data directory).
    """
    name = settings.crm.backend
    if name == "local":
        return CrmChoice(local, Lane.DB)
    if name == "salesforce" and secrets is not None:
        return _salesforce(settings, secrets, notify or (lambda _text: None))
    if name == "dynamics" and data_dir is not None:
        return _dynamics(settings, data_dir, notify or (lambda _text: None))
    return CrmChoice(None, problem=QCoreApplication.translate(
        "CrmWiring", "The %s CRM is not supported yet; calls are not looked up or logged.")
        % name)


def _salesforce(settings: Settings, secrets: SecretStore,
                notify: Callable[[str], object]) -> CrmChoice:

    from app.crm.salesforce import factory
    from app.crm.salesforce.web import DIRTY_SCRIPT, WEB_NAME, OrgWeb

    sf = settings.salesforce
    if not sf.client_id:
        return CrmChoice(None, problem=QCoreApplication.translate(
            "CrmWiring", "Salesforce is chosen but salesforce.client_id is empty; ask your "
            "Salesforce admin for the External Client App's consumer key."))

    def quota(usage: Any) -> None:
        notify(QCoreApplication.translate(
            "CrmWiring", "Salesforce: your org has used %d of its %d daily API requests "
            "(%.0f %%). Call logs keep going into the outbox; tell your Salesforce admin.")
            % (usage.used, usage.limit, usage.percent))

    parts = factory.build(sf, region=settings.phone.default_region, secret_store=secrets,
                          on_quota_warning=quota)
    org = OrgWeb(sf.login_url, parts.auth.current)
    web = CrmWeb(
        WEB_NAME, org.inside, org.record_of, DIRTY_SCRIPT,
        signed_in=lambda: parts.auth.signed_in,
        sign_in=lambda: _salesforce_sign_in(parts.auth, notify),
        sign_in_text=QCoreApplication.translate(
            "CrmWiring", "Switchboard is not signed in to Salesforce: callers are not looked "
            "up and call logs wait in the outbox."),
        sign_in_button=QCoreApplication.translate("CrmWiring", "Sign in to Salesforce"),
        # Salesforce's session cookie is a credential: never on disk. The pages get their
        # session from our OAuth sign-in through frontdoor.jsp (app/crm/salesforce/web.py).
        cookies_on_disk=False, sign_in_request=org.sign_in_request)
    # Omni-Channel only when the admin mapped its statuses: an org without it would
    # answer every read with an error, and each read costs a request of the shared quota.
    return CrmChoice(parts.backend, Lane.NETWORK, web=web,
                     presence=_omni_presence(settings, parts.client)
                     if sf.omni_status_map else None)


class _NoBrowser(Exception):
    """The system browser did not open the sign-in page."""


def _salesforce_sign_in(auth: Any, notify: Callable[[str], object]) -> object:
    """The bar's sign-in (blocking: the network lane): the system browser with PKCE, or,
    where no browser opens, the device flow with its code shown to the agent through
    `notify`, as `crm login` does."""
    import webbrowser

    def open_or_fail(url: str) -> None:
        if not webbrowser.open(url):  # False: no browser known here, or none opened
            raise _NoBrowser

    try:
        return auth.sign_in_with_browser(open_or_fail)
    except _NoBrowser:
        pass
    flow = auth.start_device_flow()
    notify(QCoreApplication.translate(
        "CrmWiring", "Sign in to Salesforce: on any device, open %s and enter the code %s.")
        % (flow.verification_uri, flow.user_code))
    return auth.finish_device_flow(flow)


def _omni_presence(settings: Settings, client: Any) -> Callable[[], CrmPresence]:
    """Salesforce Omni-Channel → availability through `salesforce.omni_status_map`."""
    from app.core.availability import parse_statuses
    from app.core.contactcenter import RemoteAvailabilityChanged
    from app.crm.salesforce.presence import OmniPresenceReader, parse_status_map
    from app.wiring.crm_presence import CrmPresence

    reader = OmniPresenceReader(client, parse_status_map(
        settings.salesforce.omni_status_map, parse_statuses(settings.availability.statuses)))

    def read() -> CrmPresence:  # blocking: the network lane
        omni = reader.current()
        if omni is None:
            return CrmPresence(QCoreApplication.translate(
                "CrmWiring", "Omni-Channel: offline"), None)
        name = omni.label or omni.developer_name
        change = None
        if omni.status is not None:
            change = RemoteAvailabilityChanged(omni.status.type, omni.status.name,
                                               reason=f"Omni-Channel: {name}")
        return CrmPresence(QCoreApplication.translate("CrmWiring", "Omni-Channel: %s") % name
                           if change is not None else QCoreApplication.translate(
                               "CrmWiring", "Omni-Channel: %s (not mapped to a status here)")
                           % name, change, omni.developer_name)
    return read


def _dynamics(settings: Settings, data_dir: Path, notify: Callable[[str], object]
              ) -> CrmChoice:
    """Dynamics 365: built without network traffic; msal runs on the network lane.

    Its token cache lives in `data_dir` (encrypted by the OS, else a 0600 file: then
    `notify` says so once). The device code of a sign-in is shown through `notify`.
    """
    from app.crm.dynamics import factory
    from app.crm.dynamics.auth import DeviceCode
    from app.crm.dynamics.callbacks import DynamicsCallbacks
    from app.crm.dynamics.web import DIRTY_SCRIPT, DIRTY_WORLD, DynamicsWeb

    dyn = settings.dynamics
    if not dyn.org_url or not dyn.client_id:
        return CrmChoice(None, problem=QCoreApplication.translate(
            "CrmWiring", "Dynamics 365 is chosen but dynamics.org_url or dynamics.client_id "
            "is empty; ask your Dynamics 365 administrator for them."))
    try:
        parts = factory.build(dyn, region=settings.phone.default_region, data_dir=data_dir)
    except CrmError as exc:
        return CrmChoice(None, problem=str(exc))
    if parts.cache_warning:
        notify(parts.cache_warning)
    auth, org = parts.auth, DynamicsWeb(dyn.org_url, dyn.authority_host)

    def sign_in() -> object:  # blocking: the network lane
        def show(code: DeviceCode) -> None:
            notify(code.message)

        return auth.sign_in(show, prefer_browser=dyn.sign_in == "browser")

    web = CrmWeb(
        "dynamics", org.inside, org.record_of, DIRTY_SCRIPT,
        signed_in=lambda: auth.username() is not None, sign_in=sign_in,
        sign_in_text=QCoreApplication.translate(
            "CrmWiring", "Switchboard is not signed in to Dynamics 365: callers are not "
            "looked up and call logs wait in the outbox."),
        sign_in_button=QCoreApplication.translate("CrmWiring", "Sign in to Dynamics 365"),
        dirty_in_main_world=DIRTY_WORLD == "main")
    return CrmChoice(parts.backend, Lane.NETWORK, web=web,
                     call_form=parts.backend.activity_form_url,
                     callbacks=DynamicsCallbacks(parts.backend, dyn.callback_queue))


def open_local_crm(profile: Profile, settings: Settings, window: MainWindow) -> LocalStore:
    """The built-in CRM, opened once for lookups, pages, the outbox and callbacks."""
    from app.crm.local.store import LocalStore

    path, region = profile.db_path("crm"), settings.phone.default_region
    try:
        LocalStore.create_if_missing(path, region)
    except CrmError as exc:
        window.show_problem(QCoreApplication.translate(
            "CrmWiring", "The built-in CRM could not be created: %s") % exc)
    # create=False: a CRM file that vanishes later is reported, not silently replaced.
    store = LocalStore(path, region=region, create=False)
    store.wait_briefly_on_this_thread(PAGE_BUSY_MS)  # this thread renders the pages
    return store


def build_crm(profile: Profile, settings: Settings, choice: CrmChoice,
               window: MainWindow, session: PhoneSession,
               tasks: TaskRunner, closables: list[Closable],
               availability: AvailabilityWiring | None = None) -> CrmWiring:
    from app.crm.local import pages
    from app.ui.notes import OutboxStatus, ScreenPopPane
    from app.ui.screenpop import ScreenPopView
    from app.wiring.crm import CrmWiring
    from app.wiring.crm_actions import PageActions

    assert choice.backend is not None
    backend, lane = choice.backend, choice.lane

    crm = settings.crm
    outbox = Outbox(profile.db_path("outbox"), retry_min=crm.outbox_retry_min_seconds,
                    retry_max=crm.outbox_retry_max_seconds,
                    max_attempts=crm.outbox_max_attempts)
    closables.append(outbox)
    tracker = CrmCallTracker(
        Workflow(crm.workflow), region=settings.phone.default_region,
        log_missed_calls=crm.log_missed_calls, save_on_case=crm.save_call_info_on_case,
        case_subject=lambda who: QCoreApplication.translate(
            "CrmWiring", "Phone call from %s") % who, call_form=choice.call_form is not None)
    submit = None
    if lane is Lane.NETWORK:
        # The dialog asks a network CRM: render it on the CRM's lane, never here.
        def submit(work: Callable[[], Any], done: Callable[[Any, Any], None]) -> None:
            tasks.run(lane, work, succeeded=lambda r: done(r, None),
                      failed=lambda e: done(None, e))
    view = ScreenPopView(lambda p, q: pages.render(p, q, backend, translate_page),
                         storage_dir=profile.cache_dir / "screenpop", submit=submit)
    if choice.web is not None:
        _add_crm_web(view, choice.web, profile)
    pane = ScreenPopPane(view)
    window.set_screenpop_widget(pane)
    outbox_status = OutboxStatus()
    window.statusBar().addPermanentWidget(outbox_status)
    actions = PageActions(backend, session, window, pane, tracker=tracker, tasks=tasks,
                          lane=lane)
    wiring = CrmWiring(backend, outbox, tracker, pane, outbox_status, actions, session,
                       window, tasks, lane=lane, call_form=choice.call_form,
                       crm=settings.crm.backend)
    presence = (_wire_crm_presence(choice, wiring, availability, tasks)
                if availability is not None else None)

    def after_sign_in() -> None:
        wiring.resume_outbox()  # the call logs held for the sign-in
        if presence is not None:
            presence.refresh()  # "at sign-in"

    if choice.web is not None:
        from app.wiring.crm_sign_in import CrmSignInWiring

        web = choice.web
        sign_in = CrmSignInWiring(pane, tasks, lane, signed_in=web.signed_in,
                                  sign_in=web.sign_in, text=web.sign_in_text,
                                  button=web.sign_in_button, after=after_sign_in,
                                  parent=wiring)
        wiring.sign_in_needed.connect(sign_in.needed)
    return wiring


def _wire_crm_presence(choice: CrmChoice, wiring: CrmWiring, availability: AvailabilityWiring,
                       tasks: TaskRunner) -> CrmPresenceWiring | None:
    """The CRM's presence (Omni-Channel) read at start and on demand, applied as the
    backend's change of availability."""
    if choice.presence is None:
        return None
    from app.wiring.crm_presence import CrmPresenceWiring

    presence = CrmPresenceWiring(
        availability.menu, tasks, choice.lane, read=choice.presence,
        apply=availability.apply_remote, parent=wiring,
        button=QCoreApplication.translate("CrmWiring", "Read again"))
    presence.refresh()
    return presence


def _add_crm_web(view: Any, web: CrmWeb, profile: Profile) -> None:
    """The CRM's own pages in a persistent profile of their own, under the profile."""
    from PySide6.QtGui import QDesktopServices

    from app.ui.crm_web import CrmWebPage, World, persistent_profile

    storage = persistent_profile(web.name, profile.data_dir / "web" / web.name, view,
                                 cookies_on_disk=web.cookies_on_disk)
    view.add_web_page(CrmWebPage(storage, inside=web.inside, record_of=web.record_of,
                                 sign_in_request=web.sign_in_request,
                                 unsaved_probe=web.dirty_script,
                                 probe_world=World.MainWorld if web.dirty_in_main_world
                                 else World.ApplicationWorld,
                                 open_external=QDesktopServices.openUrl, parent=view))


__all__ = ["CrmChoice", "CrmWeb", "build_crm", "choose_crm", "open_local_crm", "translate_page"]
