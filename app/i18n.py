"""UI language: installs Switchboard's Qt translation (and Qt's own) for `ui.language`.

`ui.language` is `system` (follow `QLocale.system()`), `en` or `fi`. English is the
source language, so `en` (or a system locale we have no translation for) installs no
catalogue. The compiled catalogues ship inside the package
(`app/resources/translations/switchboard_<lang>.qm`, made from the `.ts` files next to
them with pyside6-lupdate and pyside6-lrelease; the commands are in that folder's README).
Call `install_translator` after the QApplication exists and before any widget is built:
texts are translated when widgets are created.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "resources" / "translations"
LANGUAGES = ("en", "fi")  # what the UI ships in; English is the source text
TRANSLATOR_NAME = "switchboard-translator"


def resolve_language(setting: str, system: QLocale | None = None) -> str:
    """`system`/`en`/`fi` → the language to show (`en` when we lack the system's)."""
    if setting in LANGUAGES:
        return setting
    locale = system if system is not None else QLocale.system()
    # uiLanguages() honours LANGUAGE/LC_MESSAGES ordering, e.g. ["fi-FI", "en-US"].
    for name in [*locale.uiLanguages(), locale.name()]:
        code = name.replace("_", "-").split("-", 1)[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def install_translator(app: QCoreApplication, setting: str = "system", *,
                       system: QLocale | None = None) -> str:
    """Install the catalogues for `setting` on `app`; returns the language in force.

    The translators are parented to `app` so they live as long as it does. A missing or
    broken catalogue is logged and the UI stays English rather than failing to start.
    """
    language = resolve_language(setting, system)
    if language == "en":
        return language
    ours = QTranslator(app)
    ours.setObjectName(TRANSLATOR_NAME)
    if ours.load(str(TRANSLATIONS / f"switchboard_{language}.qm")):
        app.installTranslator(ours)
    else:
        log.warning("no %s translation at %s; the UI stays English", language, TRANSLATIONS)
        return "en"
    if QLocale().language() != QLocale(language).language():
        # Dates and numbers follow the UI language the agent chose in the settings.
        QLocale.setDefault(QLocale(language))
    qt = QTranslator(app)  # Qt's own texts: context menus, dialog buttons, date pickers
    qt.setObjectName(TRANSLATOR_NAME)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt.load(f"qtbase_{language}", qt_dir):
        app.installTranslator(qt)
    log.info("UI language: %s", language)
    return language


def remove_translators(app: QCoreApplication) -> None:
    """Undo `install_translator` (tests switch languages within one QApplication)."""
    for translator in app.findChildren(QTranslator, TRANSLATOR_NAME):
        app.removeTranslator(translator)
        translator.setParent(None)
    QLocale.setDefault(QLocale.system())


def catalogue(language: str) -> Path:
    """The source `.ts` file of `language` (for tools and tests)."""
    return TRANSLATIONS / f"switchboard_{language}.ts"
