"""Settings: defaults, per-key validation, broken files, round trip, README coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import config


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings, problems = config.load(tmp_path / "config.toml")
    assert problems == []
    assert settings.sip.mode == "registrar"
    assert settings.phone.default_region == "FI"


def test_broken_toml_names_the_file_and_keeps_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[sip\nport = = 5\n", encoding="utf-8")
    settings, problems = config.load(path)
    assert len(problems) == 1
    assert str(path) in str(problems[0]) and "not valid TOML" in str(problems[0])
    assert settings == config.Settings()


def test_non_utf8_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[sip]\nusername = \"\xff\xfe\"\n")
    settings, problems = config.load(path)
    assert problems and "cannot read" in str(problems[0])
    assert settings.sip.username == ""


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("[sip]\nport = 'abc'", "sip.port", "whole number"),
        ("[sip]\nport = 70000", "sip.port", "from 0 to 65535"),
        ("[sip]\ntransport = 'sctp'", "sip.transport", "one of udp, tcp, tls"),
        ("[sip]\nauto_answer = 'yes'", "sip.auto_answer", "true or false"),
        ("[sip]\ncaller_ids = '+358401'", "sip.caller_ids", "list of text"),
        ("[sip]\nport = true", "sip.port", "whole number"),
        ("[sip]\nnonsense = 1", "sip.nonsense", "unknown key"),
        ("[nonsense]\na = 1", "nonsense", "unknown section"),
        ("sip = 5", "sip", "table"),
    ],
)
def test_bad_key_is_named_and_default_kept(tmp_path: Path, toml: str, key: str,
                                           words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml + "\n[phone]\ndefault_region = 'SE'\n", encoding="utf-8")
    settings, problems = config.load(path)
    assert [p.key for p in problems] == [key]
    assert words in problems[0].message
    # the good key in the same file still applies
    assert settings.phone.default_region == "SE"
    assert settings.sip.port == 0 and settings.sip.transport == "udp"


def test_good_values_convert(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[sip]\nretry_min_seconds = 3\ncaller_ids = ['+35891', '+35892']\n",
                    encoding="utf-8")
    settings, problems = config.load(path)
    assert problems == []
    assert settings.sip.retry_min_seconds == 3.0
    assert isinstance(settings.sip.retry_min_seconds, float)
    assert settings.sip.caller_ids == ["+35891", "+35892"]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    settings = config.Settings()
    settings.sip.username = 'agent "7"\\x'
    settings.sip.caller_ids = ["+358401234567"]
    settings.sip.auto_answer_delay = 2.5
    path = tmp_path / "sub" / "config.toml"
    config.save(settings, path)
    loaded, problems = config.load(path)
    assert problems == []
    assert loaded == settings


def test_readme_documents_every_key() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [key for key, *_ in config.reference() if f"`{key}`" not in readme]
    assert missing == [], f"README.md does not document: {missing}"
