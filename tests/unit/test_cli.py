"""The `switchboard` command line: crm import/export, dial refusals, doctor, set-password."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app import cli
from app.secrets import KeyringSecretStore, SecretStore
from tests.fakes.memory_keyring import MemoryKeyring
from tests.fakes.memory_secrets import MemorySecretStore


def run(capsys: pytest.CaptureFixture[str], *args: str,
        secrets: SecretStore | None = None) -> tuple[int, str, str]:
    code = cli.main(list(args), secrets=secrets or MemorySecretStore())
    out, err = capsys.readouterr()
    return code, out, err


def test_crm_import_reports_bad_rows_and_export_round_trips(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "first_name,last_name,company,email,phone\n"
        "Aino,Virtanen,Acme Oy,aino@acme.fi,040 123 4567\n"
        "Bad,Row,,not-an-email,abc\n"
        "<img src=x onerror=alert(1)>,Smith,,,+44 20 7946 0958\n",
        encoding="utf-8")
    profile = str(tmp_path / "p")
    code, out, err = run(capsys, "--profile", profile, "crm", "import", str(csv_file))
    assert code == 1  # some rows were skipped
    assert "Imported 2 contacts" in out
    assert "line 3" in err and "not-an-email" in err

    code, out, _ = run(capsys, "--profile", profile, "crm", "export")
    assert code == 0
    assert "+358401234567" in out and "+442079460958" in out
    assert "<img src=x onerror=alert(1)>" in out  # stored as text, unchanged
    assert "not-an-email" not in out


def test_crm_import_of_a_missing_file_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--profile", str(tmp_path), "crm", "import",
                       str(tmp_path / "nope.csv"))
    assert code == 2
    assert "cannot open" in err and "nope.csv" in err


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://evil.example/",
                                  "tel:+358 40;rm -rf /", "sip:a@b\r\nVia: x"])
def test_dial_refuses_hostile_links_without_starting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str) -> None:
    code, _, err = run(capsys, "--profile", str(tmp_path), "dial", link)
    assert code == 2
    assert err.startswith("switchboard: ")


def test_doctor_names_a_bad_config_key(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.toml").write_text("[sip]\ntransport = 'carrier-pigeon'\n",
                                          encoding="utf-8")
    code, out, _ = run(capsys, "--profile", str(tmp_path), "doctor")
    assert code == 1
    assert "sip.transport" in out and "carrier-pigeon" in out


def test_set_password_goes_to_the_keyring_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text(
        "[sip]\nusername = 'agent7'\nserver = 'pbx.example.com:5060'\n", encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pw\n"))
    memory_keyring = MemoryKeyring()
    code, out, _ = run(capsys, "--profile", str(tmp_path), "set-password", "--stdin",
                       secrets=KeyringSecretStore(memory_keyring))
    assert code == 0 and "agent7@pbx.example.com" in out
    assert memory_keyring.get_password("switchboard", "agent7@pbx.example.com") == "s3cret-pw"
    on_disk = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"s3cret-pw" not in on_disk
