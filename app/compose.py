"""The one composition root: builds every store, backend, pool, widget and audio object once.

`build_app` makes a `SwitchboardApp` for a profile and its settings; `build_desktop` adds
the tray, toasts and links; `run_app` is the whole program. Everything else receives
finished objects: the wiring modules (app/wiring/) only connect them. Choices made here
and nowhere else: which CRM backend (`crm.backend`) and on which task lane it runs, which
contact-centre backend (`contactcenter.backend`), whether there is sound (`phone.audio`),
and where each file lives in the profile. Secrets come from the `SecretStore` passed in
(the system keyring in `run_app`).

The order of `session.subscribe` calls is the order listeners hear a call: the window,
sound, availability, the phone system, the CRM, then the desktop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QApplication

from app import config
from app.application import Closable, EngineFactory, EngineLike, EngineSlot, SwitchboardApp
from app.config import ConfigProblem, Settings, SipSettings
from app.core.availability import Availability
from app.core.availability_store import FILE_NAME, AvailabilityStore
from app.core.calls import RingPolicy
from app.core.crm import CallActivity, CrmBackend, CrmError
from app.core.crm_call import CrmCallTracker
from app.core.history import MEMORY, History, HistoryError
from app.core.outbox import Outbox
from app.core.phone import PhoneSession
from app.core.workflows import Workflow
from app.paths import Profile
from app.secrets import KeyringSecretStore, SecretStore, SecretStoreUnavailable, get_sip_password
from app.threads import GuiPoster, Lane, TaskRunner
from app.ui.main_window import MainWindow
from app.ui.status_menu import StatusMenu
from app.ui.status_panel import StatusPanel
from app.wiring.availability import AvailabilityWiring, Clock, utc_now
from app.wiring.phone import PhoneWiring

if TYPE_CHECKING:
    from app.audio.controller import AudioController
    from app.core.callbacks import CallbackCrm
    from app.crm.local.store import LocalStore
    from app.desktop.single_instance import SingleInstance
    from app.ui.settings_dialog import SettingsDialog
    from app.wiring.audio import AudioWiring
    from app.wiring.contactcenter import ContactCenterWiring
    from app.wiring.crm import CrmWiring
    from app.wiring.crm_presence import CrmPresence, CrmPresenceWiring
    from app.wiring.desktop import DesktopWiring
    from app.wiring.settings import SettingsWiring

log = logging.getLogger(__name__)

PAGE_BUSY_MS = 200  # the page renderer runs on the GUI thread: never wait long for a lock
QUEUES_MIN_HEIGHT = 170  # the dashboard's header and three rows, never one squeezed row


def _tr(text: str) -> str:
    return QCoreApplication.translate("SwitchboardApp", text)


def translate_page(text: str) -> str:
    """The built-in CRM pages' words in the UI language (looked up on every render)."""
    from app.crm.local import pages

    return QCoreApplication.translate(pages.TRANSLATION_CONTEXT, text)


def _real_engine(sip: SipSettings, **kw: Any) -> EngineLike:
    from app.telephony.engine import Engine  # pjsua2 loads only when a real phone is wanted

    return Engine(sip, **kw)


# -- the CRM backend -------------------------------------------------------------------------


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
    import webbrowser

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
        sign_in=lambda: parts.auth.sign_in_with_browser(webbrowser.open),
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


def _open_local_crm(profile: Profile, settings: Settings, window: MainWindow) -> LocalStore:
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


def _build_crm(profile: Profile, settings: Settings, choice: CrmChoice,
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


# -- the phone system's contact-centre side ----------------------------------------------------


def _build_contact_center(profile: Profile | None, settings: Settings, engine: EngineLike,
                          secrets: SecretStore, local: LocalStore | None,
                          availability: AvailabilityWiring, window: MainWindow,
                          session: PhoneSession, tasks: TaskRunner,
                          dial: Callable[[str], None], closables: list[Closable], *,
                          callbacks_to: tuple[CallbackCrm | None, Lane] | None = None
                          ) -> ContactCenterWiring | None:
    from app.contactcenter.factory import create_contact_center
    from app.core.callbacks import CallbackProcessor, HandledStore
    from app.core.contactcenter import ContactCenter, parse_colleagues
    from app.ui.callbacks import CallbackList
    from app.ui.colleagues import ColleagueList
    from app.ui.queue_dashboard import QueueDashboard
    from app.ui.queue_tabs import QueueTabs
    from app.wiring.callbacks import CallbackWiring
    from app.wiring.colleagues import ColleaguesWiring
    from app.wiring.contactcenter import ContactCenterWiring

    cc = settings.contactcenter
    try:
        # Every backend the factory builds implements the ContactCenter protocol.
        backend = cast(ContactCenter, create_contact_center(
            cc, settings.sip, engine=engine,  # type: ignore[arg-type]
            get_secret=secrets.get))
    except Exception as exc:  # a bad setting or keyring: the phone works without it
        log.exception("contact-centre backend %s not available", cc.backend)
        window.show_problem(QCoreApplication.translate(
            "AvailabilityWiring", "Queues and availability are not linked to the phone "
            "system: %s") % exc)
        return None
    dashboard = QueueDashboard()
    dashboard.setMinimumHeight(QUEUES_MIN_HEIGHT)
    tabs = QueueTabs(dashboard)
    processor = None
    callback_crm, callback_lane = callbacks_to or (local, Lane.DB)
    if profile is not None and callback_crm is not None:
        handled = HandledStore(profile.db_path("callbacks"))
        closables.append(handled)
        processor = CallbackProcessor(callback_crm, backend.close_callback, handled,
                                      target=getattr(callback_crm, "callback_target",
                                                     cc.callback_target))
    callback_list = CallbackList()
    callbacks = CallbackWiring(callback_list, processor, tasks, dial=dial, lane=callback_lane)
    tabs.set_callbacks(callback_list)
    callback_list.count_changed.connect(tabs.show_callback_count)
    colleagues = None
    if cc.backend == "sip_presence" and cc.colleagues:
        colleague_list = ColleagueList()
        colleagues = ColleaguesWiring(parse_colleagues(cc.colleagues),
                                      engine, colleague_list, dial)  # type: ignore[arg-type]
        tabs.add_colleagues(colleague_list)
    window.set_queues_widget(tabs)
    return ContactCenterWiring(
        backend, GuiPoster(), availability, dashboard, session, tasks, callbacks=callbacks,
        colleagues=colleagues,
        # SIP presence follows the registration and hears the colleagues' NOTIFYs.
        engine_events=getattr(backend, "on_engine_event", None))


# -- sound -------------------------------------------------------------------------------------


def _build_audio(profile: Profile | None, settings: Settings) -> AudioController:
    from app.audio.controller import AudioController
    from app.audio.devices import AudioDevices
    from app.audio.path import AudioPath
    from app.audio.tones import TonePlayer

    if settings.audio.echo_cancellation == "system":
        # PulseAudio and PipeWire load their echo canceller for streams of role
        # "phone"; the client's properties come from this variable, read when Qt
        # Multimedia first connects (below), so it must be set before.
        os.environ.setdefault("PULSE_PROP", "media.role=phone filter.want=echo-cancel")

    def save() -> None:
        if profile is not None:
            config.save_section(settings, "audio", profile.config_path)

    devices, path, tones = AudioDevices(), AudioPath(), TonePlayer()
    controller = AudioController(settings.audio, devices, path, tones, save=save)
    for part in (devices, path, tones):
        part.setParent(controller)
    return controller


def _wire_audio(controller: AudioController, session: PhoneSession, window: MainWindow,
                dialog: SettingsDialog) -> AudioWiring:
    from app.wiring.audio import AudioWiring

    return AudioWiring(controller, session, window, dialog)  # its page is the Audio tab


# -- settings and the first-run assistant (issue 10) -------------------------------------------


def _wire_settings(profile: Profile | None, settings: Settings, dialog: SettingsDialog,
                   window: MainWindow, session: PhoneSession, tasks: TaskRunner,
                   secrets: SecretStore, app: SwitchboardApp,
                   availability: AvailabilityWiring) -> SettingsWiring:
    from app.secrets import sip_key
    from app.ui.settings_dialog import FirstRunAssistant
    from app.wiring.settings import SettingsWiring

    def probe(sip: SipSettings, password: str | None) -> Any:
        from app.telephony.register_probe import probe_registration

        return probe_registration(sip, password)

    return SettingsWiring(
        settings, dialog, FirstRunAssistant(window), window, session, tasks,
        secrets=secrets, password_key=sip_key, probe=probe,
        config_path=profile.config_path if profile is not None else None,
        restart_phone=app.restart_engine, caller_ids_changed=availability.set_caller_ids,
        parent=app)


# -- transfer, recording, call quality (issue 11) ----------------------------------------------


def _wire_call_features(profile: Profile | None, settings: Settings, engine: EngineLike,
                        session: PhoneSession, window: MainWindow,
                        tasks: TaskRunner) -> QObject:
    """Recordings live in the profile (none without one); the wiring lives with the window."""
    import functools

    from app.audio.tones import SOUNDS
    from app.core.recording import Recordings, announcement_file, prune
    from app.ui.recording_player import RecordingPlayer
    from app.wiring.call_features import CallFeaturesWiring, transfer_targets

    rec = settings.recording
    recordings = None
    if profile is not None:
        folder = profile.data_dir / "recordings"
        recordings = Recordings(engine, session, folder, auto=rec.auto,  # type: ignore[arg-type]
                                announcement=announcement_file(rec.announcement, SOUNDS))
    return CallFeaturesWiring(
        window.call_panel, session, targets=transfer_targets(settings), recordings=recordings,
        history_view=window.history_view, player=RecordingPlayer(),
        prune=functools.partial(prune, recordings.folder, rec.retention_days)
        if recordings is not None else None, tasks=tasks, parent=window)


# -- the app -----------------------------------------------------------------------------------


def _open_history(profile: Profile | None, window: MainWindow) -> History:
    if profile is None:
        return History(MEMORY)
    try:
        return History(profile.db_path("history"))
    except HistoryError as exc:
        log.error("call history unavailable: %s", exc)
        window.show_problem(_tr("Call history is not being saved this session: %s") % exc)
        return History(MEMORY)


def _sip_password(secrets: SecretStore, sip: SipSettings, window: MainWindow) -> str | None:
    try:
        return get_sip_password(secrets, sip)
    except SecretStoreUnavailable as exc:
        window.show_problem(str(exc))
        return None


def build_app(profile: Profile | None, settings: Settings, *, secrets: SecretStore,
              engine_factory: EngineFactory = _real_engine,
              history: History | None = None, policy: RingPolicy | None = None,
              clock: Clock = utc_now, problems: Sequence[ConfigProblem] = (),
              crm_choice: CrmChoice | None = None) -> SwitchboardApp:
    """Build and connect the whole phone (not started: call `start()`).

    `profile` None: nothing on disk (no CRM, no saved availability); for tests.
    `crm_choice`: this CRM backend instead of the one `crm.backend` names (tests: any
    `CrmBackend` plugs in with no change to the wiring or the UI).
    """
    region = settings.phone.default_region
    tasks = TaskRunner()
    poster = GuiPoster()
    window = MainWindow(region)
    history = history if history is not None else _open_history(profile, window)
    closables: list[Closable] = []

    # Availability decides who may ring, so it exists before the engine does; the saved
    # choice is taken back before anything is shown or pushed.
    availability = Availability.from_settings(settings.availability, clock(),
                                              call_waiting=settings.sip.call_waiting)
    saved = AvailabilityStore(profile.data_dir / FILE_NAME) if profile else None
    if saved is not None:
        saved.restore(availability, clock())
    audio = _build_audio(profile, settings) if settings.phone.audio != "null" else None

    def make_engine() -> EngineLike:
        # Read at each (re)start: the settings dialog may have changed the account.
        return engine_factory(
            settings.sip, password=_sip_password(secrets, settings.sip, window),
            policy=policy or availability.ring_policy, on_event=poster.post, region=region,
            audio=audio.path if audio else None, log_sip=settings.log.sip_trace)

    engine = EngineSlot(make_engine)  # a changed account puts a new engine in the slot
    session = PhoneSession(engine, history, settings)

    phone = PhoneWiring(window, session, history, region=region)
    # Transfer, consultation, recording, call quality (issue 11): app/wiring/call_features.py
    _wire_call_features(profile, settings, engine, session, window, tasks)
    from app.ui.audio_settings import AudioSettingsPage
    from app.ui.settings_dialog import SettingsDialog

    settings_dialog = SettingsDialog(AudioSettingsPage() if audio else None, window)
    audio_wiring = _wire_audio(audio, session, window, settings_dialog) if audio else None
    panel = StatusPanel(StatusMenu())
    window.set_status_widget(panel)
    availability_wiring = AvailabilityWiring(availability, saved, panel, window, session,
                                             clock=clock)

    local = None
    if profile is not None and ((settings.crm.backend == "local" and crm_choice is None)
                                or settings.contactcenter.backend != "none"):
        local = _open_local_crm(profile, settings, window)
        closables.append(local)
    choice = None
    if profile is not None:  # without a profile there is nowhere to keep a CRM
        crm_notices = GuiPoster()  # a network CRM's words for the agent, from its workers
        crm_notices.setParent(window)
        crm_notices.received.connect(lambda text: window.show_problem(str(text)))
        choice = crm_choice or choose_crm(settings, local, secrets=secrets,
                                          notify=crm_notices.post, data_dir=profile.data_dir)
    contactcenter = None
    if settings.contactcenter.backend != "none":
        # Callback requests become cases or tasks in the chosen CRM (Salesforce too), on
        # its lane; the built-in CRM when no other is chosen.
        callbacks_to = (choice.callbacks or choice.backend, choice.lane) if choice is not None \
            and choice.backend is not None else (local, Lane.DB)
        contactcenter = _build_contact_center(
            profile, settings, engine, secrets, local, availability_wiring, window, session,
            tasks, phone.redial, closables, callbacks_to=callbacks_to)
    crm = None
    if choice is not None and profile is not None:
        if choice.problem is not None:
            window.show_problem(choice.problem)
        elif choice.backend is not None:
            crm = _build_crm(profile, settings, choice, window, session, tasks, closables,
                             availability_wiring)

    app = SwitchboardApp(profile, settings, window=window, engine=engine, session=session,
                         history=history, poster=poster, tasks=tasks, phone=phone,
                         availability=availability_wiring, contactcenter=contactcenter,
                         crm=crm, audio=audio_wiring, closables=closables)
    for part in (tasks, poster, phone, audio, audio_wiring, availability_wiring,
                 contactcenter, crm):
        if isinstance(part, QObject):
            part.setParent(app)
    app.settings_wiring = _wire_settings(profile, settings, settings_dialog, window, session,
                                         tasks, secrets, app, availability_wiring)
    for problem in problems:
        window.show_problem(_tr("Setting ignored: %s") % problem)
    return app


def build_desktop(app: SwitchboardApp, *, quit: Callable[[], None],
                  instance: SingleInstance | None = None) -> DesktopWiring:
    """The tray, toasts, single instance and links, connected to a built app."""
    from app.desktop.integration import Desktop
    from app.wiring.desktop import DesktopWiring, show_missed_calls

    window, availability = app.window, app.availability
    desktop = DesktopWiring(
        Desktop(window, instance=instance, region=app.settings.phone.default_region,
                parent=app),
        window, app.session, dial=app.dial_when_running,
        statuses=[s.name for s in availability.availability.statuses],
        request_status=availability.request_status,
        show_missed=lambda: show_missed_calls(window), quit=quit, parent=app)
    availability.changed.connect(desktop.show_availability)
    desktop.show_availability(availability.availability.current)
    desktop.desktop.problem.connect(window.show_problem)
    return desktop


def run_app(profile: Profile, settings: Settings, *, argv: Sequence[str],
            problems: Sequence[ConfigProblem] = (), dial: str | None = None) -> int:
    """Run the phone until the agent quits; returns the process exit code.

    `dial`: a link (`tel:`, `sip:`, `callto:`) to call once the engine runs. When another
    Switchboard already runs on this profile, the start (and `dial`) is handed to it and
    this returns 0 at once.
    """
    from app.application import quit_on_signals, run_until_quit
    from app.core.account_check import setup_needed
    from app.core.links import parse_link
    from app.desktop.launch import LinkAwareApplication, claim_instance
    from app.i18n import install_translator
    from app.ui.screenpop import register_schemes

    register_schemes()  # Qt wants custom URL schemes declared before the QApplication
    qapp = QApplication.instance() or LinkAwareApplication(list(argv))
    qapp.setApplicationName("Switchboard")
    qapp.setOrganizationName("Switchboard")
    profile.ensure()
    instance = claim_instance(profile.config_dir, ["dial", dial] if dial else [])
    if instance is None:
        log.info("handed over to the running Switchboard")
        return 0
    install_translator(qapp, settings.ui.language)  # before any widget is built
    switchboard = build_app(profile, settings, secrets=KeyringSecretStore(),
                            problems=problems)
    desktop = build_desktop(switchboard, quit=qapp.quit, instance=instance)
    first_run = setup_needed(settings)
    switchboard.start(show=not settings.ui.start_hidden or first_run, phone=not first_run)
    if switchboard.settings_wiring is not None:
        switchboard.settings_wiring.start(first_run=first_run)
    note = desktop.start()
    if note is not None:
        switchboard.window.show_problem(note)
    if dial:
        switchboard.dial_when_running(parse_link(dial, settings.phone.default_region).value)
    quit_on_signals(qapp, desktop.quit)
    # Stopped after the loop has returned, never from inside a handler (run_until_quit).
    # The phone first: its calls' last events still reach the tray, and this instance
    # holds the profile until its SIP port is free.
    return run_until_quit(qapp, [switchboard.shutdown, desktop.shutdown])


__all__ = ["CrmChoice", "CrmWeb", "build_app", "build_desktop", "choose_crm", "run_app",
           "translate_page"]
