"""The window's languages: English (the source strings) and Simplified Chinese (``gam_gui_zh_CN.qm``).

The choice, in order: an explicit ``lang`` (``gam-gui --lang``), the one remembered from
``View > Language`` (QSettings key ``ui/language``), the system locale. The ``.ts`` file next to this
module is the translation source; ``lrelease`` compiles it into the ``.qm`` that ships, so users
need no Qt tools. Figures drawn by ``gam_gui.render`` stay English: OpenCV's fonts are ASCII only.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

LOGGER = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: Language code -> its name in that language (what the View > Language menu shows).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
SETTINGS_KEY = "ui/language"
CATALOGUE = "gam_gui"
_active = "en"


def active_language() -> str:
    """The language installed by the last :func:`install` (``en`` before any, or after :func:`uninstall`)."""
    return _active


def ts_path(lang: str) -> Path:
    return HERE / f"{CATALOGUE}_{lang}.ts"


def qm_path(lang: str) -> Path:
    return HERE / f"{CATALOGUE}_{lang}.qm"


def normalise(lang: str | None) -> str | None:
    """'zh_CN', 'zh-CN', 'zh_Hans', 'zh' -> 'zh_CN'; 'en', 'en_US', 'C' -> 'en'; unknown -> None."""
    if not lang:
        return None
    code = str(lang).strip().replace("-", "_").split(".")[0]
    low = code.lower()
    if low in ("zh", "zh_cn", "zh_sg", "zh_hans", "zh_hans_cn"):
        return "zh_CN"
    if low in ("c", "posix") or low == "en" or low.startswith("en_"):
        return "en"
    return None


def system_language(locale: QLocale | None = None) -> str:
    """zh_CN for a Chinese locale in simplified script (mainland China, Singapore), else English."""
    loc = locale or QLocale.system()
    if loc.language() == QLocale.Chinese and loc.script() != QLocale.TraditionalChineseScript:
        return "zh_CN"
    return "en"


def resolve_language(lang: str | None, qsettings: QSettings | None = None,
                     locale: QLocale | None = None) -> str:
    """The language to show: ``lang`` if given, else the remembered choice, else the system locale.

    An unknown ``lang`` raises ValueError (it comes from a command line); an unknown remembered value
    is ignored (a settings file is not worth failing the start-up for)."""
    if lang:
        code = normalise(lang)
        if code is None:
            raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
        return code
    if qsettings is not None:
        code = normalise(str(qsettings.value(SETTINGS_KEY, "") or ""))
        if code is not None:
            return code
    return system_language(locale)


def remember_language(qsettings: QSettings, lang: str) -> None:
    code = normalise(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}")
    qsettings.setValue(SETTINGS_KEY, code)


def install(lang: str, app: QCoreApplication | None = None) -> list[QTranslator]:
    """Install the translators for ``lang`` on the application and return them (remove them with
    :func:`uninstall`). English needs none. Qt's own catalogue (standard buttons and dialogs) is
    added when the Qt installation has one; a missing gam-gui catalogue is logged, not fatal."""
    global _active
    app = app or QCoreApplication.instance()
    if app is None or normalise(lang) in (None, "en"):
        return []
    code = normalise(lang)
    installed: list[QTranslator] = []
    qt = QTranslator(app)
    if qt.load(f"qtbase_{code}", QLibraryInfo.location(QLibraryInfo.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    own = QTranslator(app)
    if own.load(str(qm_path(code))):
        app.installTranslator(own)
        installed.append(own)
        _active = code
    else:
        LOGGER.warning("no %s translation found at %s; the window stays in English", code, qm_path(code))
    return installed


def uninstall(translators: list[QTranslator], app: QCoreApplication | None = None) -> None:
    global _active
    _active = "en"
    app = app or QCoreApplication.instance()
    if app is None:
        return
    for t in translators:
        app.removeTranslator(t)
