"""Link-handler registration: a real xdg-mime round trip on Linux, generated data elsewhere."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.desktop.register_handler import (
    DESKTOP_ID,
    PROG_ID,
    SCHEMES,
    RegValue,
    desktop_entry,
    exec_line,
    macos_plist_bytes,
    macos_plist_fragment,
    register_handler,
    register_linux,
    to_reg_file,
    windows_registry_values,
    write_mimeapps,
)

REQUIRED_MIME = "MimeType=x-scheme-handler/tel;x-scheme-handler/sip;x-scheme-handler/callto;"


@pytest.fixture
def xdg_env(tmp_path: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    # xdg-mime picks a desktop-specific method when it detects one; we test the
    # freedesktop (mimeapps.list) method every desktop honours.
    for var in ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION",
                "GNOME_DESKTOP_SESSION_ID", "XDG_SESSION_DESKTOP"):
        env.pop(var, None)
    return env


def test_desktop_entry_has_the_keys_desktops_need() -> None:
    text = desktop_entry(["/opt/switchboard/switchboard"])
    assert "Exec=/opt/switchboard/switchboard %u\n" in text
    assert "Categories=Network;Telephony;\n" in text
    assert REQUIRED_MIME in text
    assert "x-scheme-handler/sips;" in text


@pytest.mark.parametrize(("command", "expected"), [
    (["/usr/bin/switchboard"], "/usr/bin/switchboard %u"),
    (["/opt/my apps/switchboard"], '"/opt/my apps/switchboard" %u'),
    (["/usr/bin/python3", "-m", "app"], "/usr/bin/python3 -m app %u"),
    (['/o/a"b$c`d\\e'], '"/o/a\\\\"b\\\\$c\\\\`d\\\\\\\\e" %u'),
    (["/o/100%"], "/o/100%% %u"),
])
def test_exec_line_quotes_per_the_desktop_entry_spec(command: list[str], expected: str) -> None:
    assert exec_line(command) == expected


@pytest.mark.skipif(not shutil.which("xdg-mime"), reason="xdg-mime (xdg-utils) not installed")
def test_register_makes_xdg_mime_answer_with_our_desktop_file(
        tmp_path: Path, xdg_env: dict[str, str]) -> None:
    code, lines = register_handler(["/opt/switchboard/switchboard"], platform="linux",
                                   env=xdg_env)
    assert code == 0
    assert "(xdg-mime)" in lines[-1]
    desktop = tmp_path / "data" / "applications" / DESKTOP_ID
    assert desktop.read_text(encoding="utf-8") == desktop_entry(
        ["/opt/switchboard/switchboard"])
    for scheme in SCHEMES:
        query = subprocess.run(["xdg-mime", "query", "default", f"x-scheme-handler/{scheme}"],
                               env=xdg_env, capture_output=True, text=True, check=True)
        assert query.stdout.strip() == DESKTOP_ID
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps"
            / "switchboard.svg").exists()
    # it went to the per-user config, not anywhere else
    assert f"x-scheme-handler/tel={DESKTOP_ID}" in (
        tmp_path / "config" / "mimeapps.list").read_text(encoding="utf-8")


@pytest.mark.skipif(not shutil.which("desktop-file-validate"),
                    reason="desktop-file-validate (desktop-file-utils) not installed")
def test_generated_desktop_file_validates(tmp_path: Path, xdg_env: dict[str, str]) -> None:
    reg = register_linux(["/opt/my apps/switchboard"], env=xdg_env)
    check = subprocess.run(["desktop-file-validate", str(reg.desktop_file)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_without_xdg_mime_mimeapps_list_is_written_and_other_entries_kept(
        tmp_path: Path, xdg_env: dict[str, str]) -> None:
    xdg_env["PATH"] = str(tmp_path / "empty-bin")  # no xdg-mime, no update-desktop-database
    mimeapps = tmp_path / "config" / "mimeapps.list"
    mimeapps.parent.mkdir(parents=True)
    mimeapps.write_text("[Default Applications]\ntext/html=firefox.desktop\n"
                        "x-scheme-handler/tel=other.desktop\n\n"
                        "[Added Associations]\nimage/png=gimp.desktop\n", encoding="utf-8")
    reg = register_linux(["/usr/bin/switchboard"], env=xdg_env)
    assert reg.method == "mimeapps.list"
    text = mimeapps.read_text(encoding="utf-8")
    assert "text/html=firefox.desktop" in text
    assert "image/png=gimp.desktop" in text
    assert "other.desktop" not in text
    for scheme in SCHEMES:
        assert f"x-scheme-handler/{scheme}={DESKTOP_ID}" in text
    default_section = text.split("[Added Associations]")[0]
    assert f"x-scheme-handler/callto={DESKTOP_ID}" in default_section


def test_mimeapps_is_created_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "mimeapps.list"
    write_mimeapps(path)
    write_mimeapps(path)  # idempotent
    text = path.read_text(encoding="utf-8")
    assert text.count("[Default Applications]") == 1
    assert text.count(f"x-scheme-handler/tel={DESKTOP_ID}") == 1


def test_windows_values_register_each_scheme_for_the_current_user() -> None:
    exe = r"C:\Users\agent\AppData\Local\Programs\Switchboard\switchboard.exe"
    values = windows_registry_values([exe])
    got = {(v.key, v.name): v.value for v in values}
    command = f'"{exe}" "%1"'
    for scheme in ("tel", "sip", "callto"):
        assert got[(rf"Software\Classes\{scheme}", "")] == f"URL:{scheme}"
        assert got[(rf"Software\Classes\{scheme}", "URL Protocol")] == ""
        assert got[(rf"Software\Classes\{scheme}\shell\open\command", "")] == command
        assert got[(r"Software\Switchboard\Capabilities\URLAssociations", scheme)] == PROG_ID
    assert got[(rf"Software\Classes\{PROG_ID}\shell\open\command", "")] == command
    assert got[(r"Software\RegisteredApplications", "Switchboard")] == (
        r"Software\Switchboard\Capabilities")
    assert all(not v.key.startswith(("HKEY", "\\")) for v in values)  # all relative to HKCU


def test_reg_export_is_what_regedit_reads() -> None:
    text = to_reg_file(windows_registry_values([r"C:\Program Files\Switchboard\switchboard.exe"]))
    assert text.startswith("Windows Registry Editor Version 5.00\r\n\r\n")
    assert "\r\n[HKEY_CURRENT_USER\\Software\\Classes\\tel]\r\n@=\"URL:tel\"\r\n" \
           "\"URL Protocol\"=\"\"\r\n" in text
    assert ('[HKEY_CURRENT_USER\\Software\\Classes\\tel\\shell\\open\\command]\r\n'
            '@="\\"C:\\\\Program Files\\\\Switchboard\\\\switchboard.exe\\" \\"%1\\""') in text
    assert text.count("[HKEY_CURRENT_USER\\Software\\Switchboard\\Capabilities\\"
                      "URLAssociations]") == 1
    assert '"callto"="Switchboard.URL"' in text
    assert "[HKEY_CURRENT_USER\\Software\\RegisteredApplications]\r\n" \
           '"Switchboard"="Software\\\\Switchboard\\\\Capabilities"' in text


def test_reg_export_escapes_quotes_and_backslashes() -> None:
    text = to_reg_file([RegValue(r"Software\X", 'a"b', "c\\d")])
    assert '"a\\"b"="c\\\\d"' in text


def test_macos_fragment_declares_schemes_and_microphone_use() -> None:
    fragment = plistlib.loads(macos_plist_bytes())
    assert fragment == macos_plist_fragment()
    (url_type,) = fragment["CFBundleURLTypes"]
    assert {"tel", "sip", "callto"} <= set(url_type["CFBundleURLSchemes"])
    assert url_type["CFBundleTypeRole"] == "Viewer"
    assert "microphone" in fragment["NSMicrophoneUsageDescription"]


def test_packaged_macos_plist_matches_the_generated_fragment() -> None:
    packaged = Path(__file__).resolve().parents[3] / "packaging" / "macos" / "Info.plist"
    if not packaged.exists():
        pytest.skip("packaging/macos/Info.plist not written yet")
    data = plistlib.loads(packaged.read_bytes())
    for key, value in macos_plist_fragment().items():
        assert data[key] == value


def test_other_platforms_say_so() -> None:
    code, lines = register_handler(["x"], platform="haiku")
    assert code == 1
    assert "not supported" in lines[0]


def test_macos_needs_no_runtime_registration() -> None:
    code, lines = register_handler(["x"], platform="darwin")
    assert code == 0
    assert "Switchboard.app" in lines[0]


@pytest.mark.skipif(sys.platform != "win32", reason="writes HKCU only on Windows")
def test_windows_registration_applies() -> None:  # pragma: no cover
    code, _ = register_handler([sys.executable, "-m", "app"])
    assert code == 0


def test_register_handler_command_prints_what_it_did(
        tmp_path: Path, xdg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from app.desktop.launch import register_handler_command

    if not sys.platform.startswith("linux"):
        pytest.skip("writes a desktop file")
    for key in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(key, xdg_env[key])
    assert register_handler_command(["/usr/bin/switchboard"]) == 0
    assert "Registered" in capsys.readouterr().out
    assert (tmp_path / "data" / "applications" / DESKTOP_ID).exists()


def test_inno_setup_script_writes_the_same_registry_values() -> None:
    import re

    iss = Path(__file__).resolve().parents[3] / "packaging" / "windows" / "switchboard.iss"
    text = iss.read_text(encoding="utf-8")
    quoted = r'"((?:[^"]|"")*)"'
    pattern = re.compile(rf"^Root: HKCU; Subkey: {quoted}; ValueType: string; "
                         rf"ValueName: {quoted}; ValueData: {quoted}", re.MULTILINE)
    written = [RegValue(*(g.replace('""', '"') for g in m.groups()))
               for m in pattern.finditer(text)]
    assert written == windows_registry_values([r"{app}\switchboard.exe"])
    assert "PrivilegesRequired=lowest" in text  # HKCU only: a per-user install


PACKAGING = Path(__file__).resolve().parents[3] / "packaging"


def test_packaged_desktop_file_matches_the_user_level_one() -> None:
    packaged = (PACKAGING / "linux" / "switchboard.desktop").read_text(encoding="utf-8")
    assert "Exec=switchboard %u\n" in packaged
    assert REQUIRED_MIME in packaged
    generated = desktop_entry(["switchboard"])
    assert packaged == generated


@pytest.mark.skipif(not shutil.which("desktop-file-validate"),
                    reason="desktop-file-validate (desktop-file-utils) not installed")
def test_packaged_desktop_file_validates() -> None:
    check = subprocess.run(["desktop-file-validate",
                            str(PACKAGING / "linux" / "switchboard.desktop")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstreamcli not installed")
def test_appstream_metainfo_validates() -> None:
    check = subprocess.run(["appstreamcli", "validate", "--no-net", str(
        PACKAGING / "linux" / "fi.switchboard.Switchboard.metainfo.xml")],
        capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
