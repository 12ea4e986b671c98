"""Configuration files: defaults, validation, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.errors import ConfigError


def test_defaults_when_file_is_minimal(tmp_path: Path) -> None:
    path = tmp_path / "homehub.toml"
    path.write_text('[study]\nparticipant_id = "p-7"\nrecipients = ["age1abc"]\n')
    config = load_config(path)
    assert config.study.participant_id == "p-7"
    assert config.ble == HubConfig().ble


def test_sensors_and_members_tables(tmp_path: Path) -> None:
    path = tmp_path / "homehub.toml"
    path.write_text(
        '[[sensors]]\nname = "s1"\nroom = "bedroom"\n'
        '[[members]]\nname = "member-1"\ntags = ["ab"]\n'
    )
    config = load_config(path)
    assert config.room_of("s1") == "bedroom"
    assert config.members[0].tags == ("ab",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[stduy]\n", "unknown key 'stduy' (did you mean 'study'?)"),
        ("[ble]\nsmoothing_s = 'fast'\n", "ble.smoothing_s: expected float"),
        ("[[sensors]]\nname = 's1'\n", "missing required key 'room'"),
        ("data_dir = \n", "not valid TOML"),
        ("[study]\nrecipients = 'age1'\n", "study.recipients: expected a list"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "homehub.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r".*homehub.toml.*") as info:
        load_config(path)
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
