"""The one composition root: builds every store, backend, pool, widget and audio object once.

(This package is that root; its CRM room, `choose_crm` and `build_crm`, is app/compose/crm.py.)

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
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QApplication

from app import config
from app.application import Closable, EngineFactory, EngineLike, EngineSlot, SwitchboardApp
from app.config import ConfigProblem, Settings, SipSettings
from app.core.availability import Availability
from app.core.availability_store import FILE_NAME, AvailabilityStore
from app.core.calls import RingPolicy
from app.core.history import MEMORY, History, HistoryError
from app.core.phone import PhoneSession
from app.paths import Profile
from app.secrets import KeyringSecretStore, SecretStore, SecretStoreUnavailable, get_sip_password
from app.threads import GuiPoster, Lane, TaskRunner
from app.ui.main_window import MainWindow
from app.ui.status_menu import StatusMenu
from app.ui.status_panel import StatusPanel
from app.wiring.availability import AvailabilityWiring, Clock, utc_now
from app.wiring.phone import PhoneWiring

from .crm import CrmChoice, CrmWeb, build_crm, choose_crm, open_local_crm, translate_page

if TYPE_CHECKING:
    from app.audio.controller import AudioController
    from app.core.callbacks import CallbackCrm
    from app.crm.local.store import LocalStore
    from app.desktop.single_instance import SingleInstance
    from app.ui.settings_dialog import SettingsDialog
    from app.wiring.audio import AudioWiring
    from app.wiring.contactcenter import ContactCenterWiring
    from app.wiring.desktop import DesktopWiring
    from app.wiring.settings import SettingsWiring

log = logging.getLogger(__name__)

QUEUES_MIN_HEIGHT = 170  # the dashboard's header and three rows, never one squeezed row


def _tr(text: str) -> str:
    return QCoreApplication.translate("SwitchboardApp", text)


def _real_engine(sip: SipSettings, **kw: Any) -> EngineLike:
    from app.telephony.engine import Engine  # pjsua2 loads only when a real phone is wanted

    return Engine(sip, **kw)


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
    from app.audio.collector import CallCollector
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

    devices, tones = AudioDevices(), TonePlayer()
    path = AudioPath(collector=CallCollector())
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
        local = open_local_crm(profile, settings, window)
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
            crm = build_crm(profile, settings, choice, window, session, tasks, closables,
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
