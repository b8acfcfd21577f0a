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


# -- save_section: the settings pages write one section, the agent's file stays theirs -------

AGENT_FILE = """\
# My Switchboard settings (edited by hand)

[sip]
username = "agent7"   # the desk number
port = 5070

[audio]
# The headset at the desk
speaker = "Old headset"
ringer = ""
future_key = "kept"   # a key a newer version wrote

[phone]
audio = "auto"
"""


def audio_choice() -> config.Settings:
    settings = config.Settings()
    settings.audio.speaker = "Jabra Evolve 40"
    settings.audio.ringer = "Built-in Audio Analog Stereo"
    settings.audio.speaker_volume = 0.5
    settings.audio.keypad_tones = False
    return settings


def test_save_section_changes_only_that_sections_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(AGENT_FILE, encoding="utf-8")
    config.save_section(audio_choice(), "audio", path)
    text = path.read_text(encoding="utf-8")
    for kept in ("# My Switchboard settings (edited by hand)", "# The headset at the desk",
                 'username = "agent7"   # the desk number', "port = 5070",
                 'future_key = "kept"   # a key a newer version wrote',
                 '[phone]\naudio = "auto"\n'):
        assert kept in text
    assert 'speaker = "Jabra Evolve 40"' in text and "Old headset" not in text
    assert text.count("[audio]") == 1 and text.count("speaker =") == 1
    # the keys the file lacked are added inside [audio], before [phone]
    audio = text.split("[audio]")[1].split("[phone]")[0]
    assert "speaker_volume = 0.5" in audio and "keypad_tones = false" in audio


def test_save_section_keeps_the_comment_on_a_line_whose_value_it_changes(
        tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[audio]\nspeaker = "Old headset"  # the grey one\n', encoding="utf-8")
    config.save_section(audio_choice(), "audio", path)
    assert 'speaker = "Jabra Evolve 40"  # the grey one' in path.read_text(encoding="utf-8")


def test_save_section_leaves_commented_out_keys_and_other_sections_keys_alone(
        tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[phone]\nspeaker = "not the audio one"\n\n[audio]\n'
                    '# speaker = "what I used last year"\n', encoding="utf-8")
    config.save_section(audio_choice(), "audio", path)
    text = path.read_text(encoding="utf-8")
    assert '[phone]\nspeaker = "not the audio one"\n' in text
    audio = text.split("[audio]")[1]
    assert '# speaker = "what I used last year"' in audio
    assert 'speaker = "Jabra Evolve 40"' in audio


def test_save_section_adds_a_missing_section_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sip]\nusername = "agent7"\n', encoding="utf-8")
    config.save_section(audio_choice(), "audio", path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('[sip]\nusername = "agent7"\n\n[audio]\n')
    loaded, problems = config.load(path)
    assert problems == []
    assert loaded.sip.username == "agent7" and loaded.audio == audio_choice().audio


def test_save_section_creates_a_missing_file_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    config.save_section(audio_choice(), "audio", path)
    loaded, problems = config.load(path)
    assert problems == [] and loaded.audio == audio_choice().audio
    assert loaded.sip == config.Settings().sip
    assert not path.with_suffix(".toml.tmp").exists()


def test_save_section_round_trips_every_key_and_hard_names(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(AGENT_FILE, encoding="utf-8")
    settings = audio_choice()
    settings.audio.microphone = 'Mic "Pro" \\ USB = ä'
    settings.audio.microphone_volume = 0.25
    settings.audio.echo_cancellation = "off"
    config.save_section(settings, "audio", path)
    loaded, problems = config.load(path)
    assert [p.key for p in problems] == ["audio.future_key"]  # unknown, kept, reported
    assert loaded.audio == settings.audio
    assert loaded.sip.username == "agent7" and loaded.sip.port == 5070
    config.save_section(loaded, "audio", path)  # saving again changes nothing
    assert config.load(path)[0] == loaded


def test_save_section_of_a_file_that_is_not_valid_toml_loses_none_of_its_lines(
        tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    broken = '[sip]\nusername = "agent7\nport = = 5\n\n[audio]\nspeaker = "Old"\n'
    path.write_text(broken, encoding="utf-8")
    config.save_section(audio_choice(), "audio", path)
    text = path.read_text(encoding="utf-8")
    assert '[sip]\nusername = "agent7\nport = = 5\n' in text  # the agent can still fix it
    assert 'speaker = "Jabra Evolve 40"' in text
    assert "not valid TOML" in str(config.load(path)[1][0])  # and is still told about it


def test_save_section_of_a_file_that_is_not_utf8_says_so_and_leaves_it_alone(
        tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[sip]\nusername = \"\xff\xfe\"\n")
    with pytest.raises(config.ConfigSaveError, match="not UTF-8"):
        config.save_section(audio_choice(), "audio", path)
    assert path.read_bytes() == b"[sip]\nusername = \"\xff\xfe\"\n"


def test_a_comment_sign_inside_a_quoted_value_is_not_a_comment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[audio]\nspeaker = "Desk #2"\nringer = "a \\" # b"  # kept\n',
                    encoding="utf-8")
    config.save_section(audio_choice(), "audio", path)
    text = path.read_text(encoding="utf-8")
    assert 'speaker = "Jabra Evolve 40"\n' in text
    assert text.count("# kept") == 1 and "# b" not in text
