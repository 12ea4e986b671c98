"""First boot: import the boot partition's homehub.toml, apply it to a system root, record it."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest

from hub.config import config_from_dict, load_config
from hub.errors import ConfigError
from hub.firstboot import (
    IMPORTED_NOTE,
    Layout,
    hub_config_toml,
    nm_keyfile,
    run_firstboot,
    validate,
)

EXAMPLE = Path(__file__).parents[2] / "image-build" / "homehub.toml.example"
RECIPIENT = "age1r502dygg0hdft628pvzraqc9t768p6tjqc58zt2wgjy67ynxhs7sy9h754"
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0x0u2mSMvWf0V5G1lB3i4vQh8z3Zq9kQm9Zl5bE0xH tech@lab"
)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    boot = tmp_path / "boot"
    boot.mkdir()
    return Layout(root=root, boot_dir=boot, state_dir=tmp_path / "data")


def write_boot(layout: Layout, text: str) -> None:
    layout.boot_file.write_text(text)


def good_toml(**system: str) -> str:
    extra = "".join(f'{k} = "{v}"\n' for k, v in system.items())
    return (
        f'[system]\nhostname = "hub-p7"\ntimezone = "Europe/Berlin"\n{extra}'
        '[wifi]\nssid = "Home;Net"\npsk = "s3cret-passphrase"\ncountry = "DE"\n'
        f'[study]\nparticipant_id = "P-0007"\nrecipients = ["{RECIPIENT}"]\n'
        '[delivery]\ns3_endpoint = "http://127.0.0.1:9000"\ns3_secret_key = "s3-secret"\n'
    )


def test_example_file_is_valid() -> None:
    config = validate(load_config(EXAMPLE))
    assert config.study.recipients


def test_good_file_is_imported_applied_and_removed_from_boot(layout: Layout) -> None:
    write_boot(layout, good_toml())
    commands: list[list[str]] = []
    result = run_firstboot(layout, live=True, runner=commands.append)

    assert result["ok"], result["errors"]
    assert result["imported"] and result["configured"]
    # the FAT copy with the passphrase is gone; a note says what happened
    assert not layout.boot_file.exists()
    assert "imported" in (layout.boot_dir / IMPORTED_NOTE).read_text()
    # the imported copy keeps everything, readable by root only
    assert stat.S_IMODE(layout.imported.stat().st_mode) == 0o600
    assert "s3cret-passphrase" in layout.imported.read_text()
    etc = layout.root / "etc"
    assert (etc / "hostname").read_text() == "hub-p7\n"
    hosts = (etc / "hosts").read_text()
    assert "127.0.1.1\thub-p7" in hosts and "raspberrypi" not in hosts
    assert os.readlink(etc / "localtime") == "/usr/share/zoneinfo/Europe/Berlin"
    keyfile = etc / "NetworkManager" / "system-connections" / "homehub-wifi.nmconnection"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert "ssid=Home;Net" in keyfile.read_text()
    assert "psk=s3cret-passphrase" in keyfile.read_text()
    assert "ieee80211_regdom=DE" in (etc / "modprobe.d" / "homehub-wifi.conf").read_text()
    assert ["hostname", "hub-p7"] in commands
    # no key given: SSH stays off
    assert ["systemctl", "stop", "--no-block", "ssh.service"] in commands
    assert not (layout.root / "home" / "hhadmin" / ".ssh" / "authorized_keys").exists()


def test_hub_config_loads_without_the_wifi_passphrase(layout: Layout) -> None:
    write_boot(layout, good_toml())
    run_firstboot(layout, live=False)
    text = layout.hub_config.read_text()
    assert "s3cret-passphrase" not in text
    assert stat.S_IMODE(layout.hub_config.stat().st_mode) == 0o640
    config = load_config(layout.hub_config)
    assert config.data_dir == str(layout.hub_data)
    assert config.study.participant_id == "P-0007"
    assert config.study.recipients == (RECIPIENT,)
    assert config.delivery.s3_secret_key == "s3-secret"
    assert config.wifi.psk == ""
    assert stat.S_IMODE(layout.hub_data.stat().st_mode) == 0o700


def test_hub_config_round_trips_every_section() -> None:
    data = {
        "system": {"hostname": "h", "timezone": "UTC"},
        "study": {"participant_id": 'odd"id\\x', "recipients": [RECIPIENT]},
        "sensors": [{"name": "kitchen-1", "room": "Küche"}, {"name": "bed", "room": "bed\nroom"}],
        "members": [{"name": "member-1", "tags": ["ab", "cd"]}],
        "ble": {"min_rssi": -80, "smoothing_s": 12.5},
        "audio": {"enabled": False, "paused_rooms": ["bath"]},
        "web": {"port": 8081},
    }
    config = config_from_dict(data)
    text = hub_config_toml(config, Path("/d"))
    again = config_from_dict(tomllib.loads(text))
    assert again.data_dir == "/d"
    assert again.sensors == config.sensors
    assert again.members == config.members
    assert again.study == config.study
    assert again.ble == config.ble
    assert again.audio == config.audio
    assert again.web == config.web


def test_ssh_key_enables_ssh_for_the_admin_only(layout: Layout) -> None:
    write_boot(layout, good_toml(ssh_authorized_key=SSH_KEY))
    commands: list[list[str]] = []
    result = run_firstboot(layout, live=True, runner=commands.append)
    assert result["ok"], result["errors"]
    auth = layout.root / "home" / "hhadmin" / ".ssh" / "authorized_keys"
    assert auth.read_text() == SSH_KEY + "\n"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert ["systemctl", "start", "--no-block", "ssh.service"] in commands


def test_device_key_is_generated_once(layout: Layout) -> None:
    write_boot(layout, good_toml())
    first = run_firstboot(layout, live=False)
    keys = layout.hub_data / "keys"
    files = {p.name: p.read_bytes() for p in keys.iterdir()}
    assert files, "no device key written"
    assert any("generated" in a for a in first["applied"])
    second = run_firstboot(layout, live=False)
    assert any("kept" in a for a in second["applied"])
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == files
    assert not second["imported"], "nothing new on the boot partition"


def test_typo_is_reported_and_file_kept(layout: Layout) -> None:
    write_boot(layout, good_toml().replace("timezone", "timezon"))
    result = run_firstboot(layout, live=False)
    assert not result["ok"]
    assert not result["configured"]
    (error,) = result["errors"]
    assert "homehub.toml" in error
    assert "'timezon'" in error and "did you mean 'timezone'" in error
    # the technician's file stays so it can be fixed; nothing half-applied
    assert layout.boot_file.exists()
    assert not layout.imported.exists()
    assert not (layout.root / "etc" / "hostname").exists()
    recorded = json.loads(layout.result.read_text())
    assert recorded["errors"] == result["errors"]
    assert stat.S_IMODE(layout.result.stat().st_mode) == 0o644


def test_bad_file_keeps_previous_good_configuration(layout: Layout) -> None:
    write_boot(layout, good_toml())
    run_firstboot(layout, live=False)
    write_boot(layout, good_toml().replace('"hub-p7"', '"Hub_P7!"'))
    result = run_firstboot(layout, live=False)
    assert not result["ok"]
    assert "system.hostname" in result["errors"][0]
    assert result["configured"]  # the earlier import is still applied
    assert (layout.root / "etc" / "hostname").read_text() == "hub-p7\n"
    assert "s3cret" not in layout.result.read_text()


def test_no_file_at_all_says_what_to_do(layout: Layout) -> None:
    result = run_firstboot(layout, live=False)
    assert not result["ok"]
    assert "put a homehub.toml on the boot partition" in result["errors"][0]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (("Europe/Berlin", "Europe/Berlln"), "system.timezone"),
        (('psk = "s3cret-passphrase"', 'psk = "short"'), "wifi.psk"),
        (('country = "DE"', 'country = "Germany"'), "wifi.country"),
        ((RECIPIENT, "age1notakey"), "study.recipients[0]"),
        (('"P-0007"', '"../etc"'), "study.participant_id"),
        (('recipients = ["' + RECIPIENT + '"]', "recipients = []"), "study.recipients"),
    ],
)
def test_validation_names_the_key(edit: tuple[str, str], key: str) -> None:
    bad = good_toml().replace(*edit)
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        validate(config_from_dict(tomllib.loads(bad)))


def test_missing_section_value_type_is_named(layout: Layout) -> None:
    write_boot(layout, good_toml().replace('participant_id = "P-0007"', "participant_id = 7"))
    result = run_firstboot(layout, live=False)
    assert "study.participant_id: expected str" in result["errors"][0]


def test_keyfile_rejects_line_breaks() -> None:
    with pytest.raises(ConfigError, match="wifi.ssid"):
        nm_keyfile("evil\n[connection]", "passphrase")
    assert "ssid=\\sleading" in nm_keyfile(" leading", "passphrase")
