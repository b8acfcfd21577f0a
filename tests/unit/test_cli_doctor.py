"""`switchboard doctor` fails (exit 1, with the fix) when the phone cannot start, and
`switchboard dial` / `run` with no display say so instead of aborting (issue 10)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import keyring.backends.fail
import pytest

from app import cli
from app.secrets import NO_BACKEND_HELP, KeyringSecretStore, SecretStore
from tests.fakes.memory_keyring import MemoryKeyring
from tests.fakes.memory_secrets import MemorySecretStore

REPO = Path(__file__).resolve().parents[2]
SILENT = '[phone]\naudio = "null"\n'  # no device probe: these tests are about the rest


def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, *args: str,
           secrets: SecretStore | None = None) -> tuple[int, str]:
    (tmp_path / "config.toml").write_text(SILENT + config, encoding="utf-8")
    code = cli.main(["--profile", str(tmp_path), "doctor", *args],
                    secrets=secrets or MemorySecretStore())
    return code, capsys.readouterr().out


def closed_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: a connection is refused


def test_a_direct_mode_phone_with_a_keyring_passes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = doctor(tmp_path, capsys, '[sip]\nmode = "direct"\n')
    assert code == 0, out
    assert "account:  direct mode" in out and "crm:      local" in out


def test_no_server_in_registrar_mode_fails_with_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = doctor(tmp_path, capsys, '[sip]\nusername = "1001"\n')
    assert code == 1
    assert ("account:  sip.server: the phone system address is empty; set it in the "
            "settings dialog or config.toml") in out


def test_an_unreachable_server_fails_with_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_tcp_port()
    code, out = doctor(tmp_path, capsys, f'[sip]\nusername = "1001"\nserver = '
                       f'"127.0.0.1:{port}"\ntransport = "tcp"\n')
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("account:"))
    assert f"1001 at 127.0.0.1:{port} does not register" in line
    assert "cannot be reached: check sip.server, sip.transport" in line


def test_offline_skips_the_register(tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_tcp_port()
    code, out = doctor(tmp_path, capsys, f'[sip]\nusername = "1001"\nserver = '
                       f'"127.0.0.1:{port}"\n', "--offline")
    assert code == 0, out
    assert "(not tested: --offline)" in out


def test_an_unsupported_crm_fails_with_the_choices(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = doctor(tmp_path, capsys, '[sip]\nmode = "direct"\n[crm]\nbackend = "hubspot"\n')
    assert code == 1
    assert "crm.backend" in out and "expected one of local, salesforce, dynamics" in out


@pytest.mark.parametrize(("backend", "keys"), [("salesforce", "salesforce.client_id"),
                                               ("dynamics", "dynamics.org_url, "
                                                            "dynamics.client_id")])
def test_an_outside_crm_without_its_settings_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str, keys: str) -> None:
    code, out = doctor(tmp_path, capsys, f'[sip]\nmode = "direct"\n[crm]\nbackend = '
                       f'"{backend}"\n')
    assert code == 1
    assert f"crm:      {backend} is chosen but {keys} is empty" in out


@pytest.mark.parametrize(("section", "stored", "says"), [
    ('[salesforce]\nclient_id = "ck"\n', {}, "not signed in: run `switchboard crm login`"),
    ('[salesforce]\nclient_id = "ck"\n', {"salesforce:ck": "refresh-token"}, "signed in ("),
    ('[dynamics]\norg_url = "https://contoso.crm4.dynamics.com"\nclient_id = "c"\n', {},
     "not signed in: run `switchboard crm login`")])
def test_an_outside_crm_says_whether_it_is_signed_in_without_failing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str,
        stored: dict[str, str], says: str) -> None:
    backend = section[1:section.index("]")]
    code, out = doctor(tmp_path, capsys, f'[sip]\nmode = "direct"\n[crm]\nbackend = '
                       f'"{backend}"\n{section}', "--offline",
                       secrets=MemorySecretStore(stored))
    assert code == 0, out  # calls work without the CRM; lookups wait for the sign-in
    assert f"crm:      {backend}\ncrm:      {says}" in out
    assert "refresh-token" not in out


def test_no_keyring_fails_with_the_fix(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    none = KeyringSecretStore(backend=keyring.backends.fail.Keyring())
    code, out = doctor(tmp_path, capsys, '[sip]\nmode = "direct"\n', secrets=none)
    assert code == 1
    assert f"keyring:  {NO_BACKEND_HELP}" in out
    usable = KeyringSecretStore(backend=MemoryKeyring())
    code, out = doctor(tmp_path, capsys, '[sip]\nmode = "direct"\n', secrets=usable)
    assert code == 0, out


def test_display_problem_only_on_linux_without_a_display() -> None:
    assert cli.display_problem({}, "linux").startswith("there is no display")
    assert cli.display_problem({"DISPLAY": ":0"}, "linux") == ""
    assert cli.display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") == ""
    assert cli.display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") == ""
    assert cli.display_problem({}, "win32") == "" and cli.display_problem({}, "darwin") == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="displays are a Linux matter")
@pytest.mark.parametrize("command", [["dial", "tel:+358401234567"], ["run"]])
def test_dial_and_run_without_a_display_say_so_instead_of_aborting(
        tmp_path: Path, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "app", "--profile", str(tmp_path),
                           *command], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stderr  # not 134: Qt's abort
    assert "there is no display to open the window on" in done.stderr
