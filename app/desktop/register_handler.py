"""Make Switchboard the current user's handler for tel:, sip:, sips: and callto: links.

- Linux: a `.desktop` file in `$XDG_DATA_HOME/applications` (Exec=... %u) and
  `xdg-mime default` for each `x-scheme-handler/<scheme>`, which writes
  `$XDG_CONFIG_HOME/mimeapps.list`. Without xdg-mime we write that file ourselves.
- Windows: the per-user keys under HKCU\\Software\\Classes (`URL Protocol`,
  `shell\\open\\command`), `Capabilities\\URLAssociations` and `RegisteredApplications`,
  produced by the pure `windows_registry_values()` and applied with winreg only on
  Windows; `to_reg_file()` gives the same data as a `.reg` export. Windows 10 and later
  still let the user confirm the default in Settings → Default apps.
- macOS: nothing to do at run time. The bundle's Info.plist declares `CFBundleURLTypes`
  (see `macos_plist_fragment()` and packaging/macos/Info.plist) and LaunchServices
  registers it when the app is first opened. The link then arrives as a `QFileOpenEvent`
  (`QEvent.FileOpen`, `.url()`) on the QApplication, not on the command line.

Every launch through a link runs `<switchboard command> <link>`; the link is untrusted
and goes through `app.core.links.parse_link` before anything is dialled.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMES = ("tel", "sip", "callto", "sips")
DESKTOP_ID = "switchboard.desktop"
APP_NAME = "Switchboard"
BUNDLE_ID = "fi.switchboard.Switchboard"
PROG_ID = "Switchboard.URL"
# resources/ sits next to app/ in a checkout and in the PyInstaller bundle alike.
APP_ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "switchboard.svg"
MIC_USAGE = "Switchboard uses the microphone for your phone calls."

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


# -- the command a link starts ---------------------------------------------------------

def default_command() -> list[str]:
    """The command that starts this Switchboard: the frozen binary, the installed
    `switchboard` script, or this Python running `-m app`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = shutil.which("switchboard")
    if script:
        return [str(Path(script).resolve())]
    return [sys.executable, "-m", "app"]


# -- Linux -----------------------------------------------------------------------------

_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def _exec_quote(arg: str) -> str:
    """Quote one Exec argument (Desktop Entry Specification, "The Exec key")."""
    arg = arg.replace("%", "%%")
    if arg and not (_RESERVED & set(arg)):
        return arg
    inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
    return f'"{inner}"'


def exec_line(command: Sequence[str]) -> str:
    """`Exec=` value: the command quoted for a desktop file, then `%u` for the link."""
    quoted = " ".join(_exec_quote(a) for a in command)
    # The desktop file's own string escaping doubles every backslash once more.
    return quoted.replace("\\", "\\\\") + " %u"


def desktop_entry(command: Sequence[str], icon: str = "switchboard") -> str:
    """The text of switchboard.desktop for `command` (packaging/linux has the same keys)."""
    mime = "".join(f"x-scheme-handler/{s};" for s in SCHEMES)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        f"Name={APP_NAME}",
        "GenericName=Softphone",
        "GenericName[fi]=Ohjelmistopuhelin",
        "Comment=Answer and place calls with your CRM at hand",
        "Comment[fi]=Vastaa puheluihin ja soita asiakastiedot käden ulottuvilla",
        f"Exec={exec_line(command)}",
        f"Icon={icon}",
        "Terminal=false",
        "StartupNotify=true",
        f"StartupWMClass={APP_NAME}",
        "Categories=Network;Telephony;",
        f"MimeType={mime}",
        "Keywords=phone;call;SIP;VoIP;CRM;softphone;puhelin;",
        "",
    ])


def xdg_dirs(env: Mapping[str, str]) -> tuple[Path, Path]:
    """($XDG_DATA_HOME, $XDG_CONFIG_HOME) with the spec's defaults under $HOME."""
    home = Path(env.get("HOME") or Path.home())
    data = env.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    conf = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(data), Path(conf)


@dataclass(frozen=True)
class Registration:
    """What `register_linux` did, for the command's output and for tests."""

    desktop_file: Path
    method: str  # "xdg-mime" or "mimeapps.list"
    messages: tuple[str, ...] = ()


def register_linux(command: Sequence[str] | None = None, *,
                   env: Mapping[str, str] | None = None, run: Runner = subprocess.run
                   ) -> Registration:
    """Write the desktop file and make it the default for every scheme."""
    env = dict(os.environ if env is None else env)
    data_home, config_home = xdg_dirs(env)
    apps = data_home / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    target = apps / DESKTOP_ID
    tmp = target.with_suffix(".tmp")
    tmp.write_text(desktop_entry(command or default_command()), encoding="utf-8")
    tmp.replace(target)
    messages: list[str] = []
    if APP_ICON.exists():
        icons = data_home / "icons" / "hicolor" / "scalable" / "apps"
        icons.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(APP_ICON, icons / "switchboard.svg")
    if shutil.which("update-desktop-database", path=env.get("PATH")):
        run(["update-desktop-database", str(apps)], env=env, capture_output=True, text=True,
            check=False, timeout=30)
    if shutil.which("xdg-mime", path=env.get("PATH")):
        failed = False
        for scheme in SCHEMES:
            done = run(["xdg-mime", "default", DESKTOP_ID, f"x-scheme-handler/{scheme}"],
                       env=env, capture_output=True, text=True, check=False, timeout=30)
            if done.returncode != 0:
                failed = True
                messages.append(f"xdg-mime default failed for {scheme}: "
                                f"{(done.stderr or done.stdout).strip()}")
        if not failed:
            return Registration(target, "xdg-mime", tuple(messages))
    else:
        messages.append("xdg-mime is not installed; wrote mimeapps.list directly")
    write_mimeapps(config_home / "mimeapps.list")
    return Registration(target, "mimeapps.list", tuple(messages))


def write_mimeapps(path: Path) -> None:
    """Set our desktop file as default for each scheme in a mimeapps.list, keeping the rest."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    ours = {f"x-scheme-handler/{s}" for s in SCHEMES}
    out: list[str] = []
    section = ""
    placed = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if section == "[Default Applications]" and not placed:
                out.extend(f"{m}={DESKTOP_ID}" for m in sorted(ours))
                placed = True
            section = stripped
        elif section == "[Default Applications]" and stripped.split("=", 1)[0] in ours:
            continue
        out.append(line)
    if not placed:
        if section != "[Default Applications]":
            out.append("[Default Applications]")
        out.extend(f"{m}={DESKTOP_ID}" for m in sorted(ours))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


# -- Windows ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RegValue:
    """One registry value under HKEY_CURRENT_USER; name "" is the key's default value."""

    key: str
    name: str
    value: str


def windows_registry_values(command: Sequence[str]) -> list[RegValue]:
    """Every HKCU value a per-user registration needs (also what switchboard.iss writes).

    `command` is the program and its leading arguments; the link is appended as "%1".
    """
    exe = command[0]
    command_line = " ".join(f'"{part}"' for part in [*command, "%1"])
    icon = f'"{exe}",0'
    caps = rf"Software\{APP_NAME}\Capabilities"
    values = [
        RegValue(rf"Software\Classes\{PROG_ID}", "", f"{APP_NAME} phone link"),
        RegValue(rf"Software\Classes\{PROG_ID}\DefaultIcon", "", icon),
        RegValue(rf"Software\Classes\{PROG_ID}\shell\open\command", "", command_line),
        RegValue(caps, "ApplicationName", APP_NAME),
        RegValue(caps, "ApplicationDescription",
                 "Softphone for contact-centre agents"),
        RegValue(caps, "ApplicationIcon", icon),
    ]
    for scheme in SCHEMES:
        base = rf"Software\Classes\{scheme}"
        values += [
            RegValue(base, "", f"URL:{scheme}"),
            RegValue(base, "URL Protocol", ""),
            RegValue(base + r"\DefaultIcon", "", icon),
            RegValue(base + r"\shell\open\command", "", command_line),
            RegValue(caps + r"\URLAssociations", scheme, PROG_ID),
        ]
    values.append(RegValue(r"Software\RegisteredApplications", APP_NAME, caps))
    return values


def to_reg_file(values: Sequence[RegValue]) -> str:
    """A `.reg` export of `values` (regedit's text format, string values only)."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    by_key: dict[str, list[RegValue]] = {}
    for v in values:
        by_key.setdefault(v.key, []).append(v)
    lines = ["Windows Registry Editor Version 5.00"]
    for key, group in by_key.items():
        lines += ["", f"[HKEY_CURRENT_USER\\{key}]"]
        for v in group:
            name = "@" if v.name == "" else f'"{esc(v.name)}"'
            lines.append(f'{name}="{esc(v.value)}"')
    return "\r\n".join(lines) + "\r\n"


def apply_windows(values: Sequence[RegValue]) -> None:  # pragma: no cover - Windows only
    """Write `values` with winreg and tell Explorer that associations changed."""
    if sys.platform != "win32":
        raise OSError("the Windows registry exists only on Windows")
    import ctypes
    import winreg

    for v in values:
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, v.key, 0,
                                winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, v.name, 0, winreg.REG_SZ, v.value)
    shcne_assocchanged, shcnf_idlist = 0x08000000, 0
    ctypes.windll.shell32.SHChangeNotify(shcne_assocchanged, shcnf_idlist, None, None)


# -- macOS -----------------------------------------------------------------------------

def macos_plist_fragment() -> dict[str, Any]:
    """Info.plist keys for the link schemes and the microphone prompt."""
    return {
        "CFBundleURLTypes": [{
            "CFBundleURLName": f"{BUNDLE_ID}.phone",
            "CFBundleTypeRole": "Viewer",
            "CFBundleURLSchemes": list(SCHEMES),
        }],
        "NSMicrophoneUsageDescription": MIC_USAGE,
    }


def macos_plist_bytes() -> bytes:
    return plistlib.dumps(macos_plist_fragment(), sort_keys=False)


# -- the `switchboard register-handler` command -----------------------------------------

def register_handler(command: Sequence[str] | None = None, *,
                     platform: str = sys.platform,
                     env: Mapping[str, str] | None = None,
                     run: Runner = subprocess.run) -> tuple[int, list[str]]:
    """Register for the current user on this platform: (exit code, lines to print)."""
    command = list(command or default_command())
    if platform.startswith("linux") or "bsd" in platform:
        reg = register_linux(command, env=env, run=run)
        schemes = ", ".join(f"{s}:" for s in SCHEMES)
        return 0, [*reg.messages,
                   f"Registered {reg.desktop_file} for {schemes} links ({reg.method})."]
    if platform == "win32":
        apply_windows(windows_registry_values(command))
        return 0, ["Registered Switchboard for tel:, sip:, sips: and callto: links. "
                   "Windows may ask you to confirm it in Settings → Apps → Default apps."]
    if platform == "darwin":
        return 0, ["On macOS the Switchboard app bundle declares its link types; "
                   "open Switchboard.app once from /Applications to register them."]
    return 1, [f"Registering link handlers is not supported on {platform}."]
