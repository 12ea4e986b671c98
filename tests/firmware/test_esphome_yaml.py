"""Every ESPHome configuration validates and generates C++ in ESPHome's own environment.

``esphome compile --only-generate`` needs no toolchain download, so it runs offline; a full
compile needs PlatformIO's ESP-IDF toolchain and is left to a connected build machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.firmware

ROOT = Path(__file__).resolve().parents[2]
ESPHOME_DIR = ROOT / "firmware" / "esphome"
CONFIGS = sorted(ESPHOME_DIR.glob("*.yaml"))
ESPHOME_VERSION = "2026.6"


@pytest.fixture(scope="session")
def esphome() -> str:
    path = Path(
        os.environ.get(
            "HOMEHUB_ESPHOME", ROOT / "firmware" / ".cache" / "esphome-venv" / "bin" / "esphome"
        )
    )
    if not path.exists():
        msg = f"ESPHome not installed at {path} (scripts/ci/30-firmware.sh installs it)"
        if os.environ.get("HOMEHUB_FIRMWARE_REQUIRED"):
            pytest.fail(msg)
        pytest.skip(msg)
    return str(path)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of firmware/esphome, so ESPHome's build files never land in the repository."""
    dest = tmp_path / "esphome"
    shutil.copytree(ESPHOME_DIR, dest, ignore=shutil.ignore_patterns(".esphome", "*.md"))
    return dest


def run(esphome: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ESPHOME_DATA_DIR": str(workdir / ".esphome"),
        "PLATFORMIO_CORE_DIR": str(workdir / ".pio"),
    }
    return subprocess.run(
        [esphome, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_three_sensors_exist() -> None:
    assert {p.name for p in CONFIGS} == {
        "room-sensor.yaml",
        "ble-sensor.yaml",
        "ble-sensor-c3.yaml",
    }


def test_esphome_is_the_pinned_release(esphome: str) -> None:
    out = subprocess.run([esphome, "version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {ESPHOME_VERSION}." in out


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_config_validates(esphome: str, workdir: Path, config: Path) -> None:
    proc = run(esphome, workdir, "config", config.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Configuration is valid!" in proc.stdout + proc.stderr


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_generates_cpp(esphome: str, workdir: Path, config: Path) -> None:
    proc = run(esphome, workdir, "compile", "--only-generate", config.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [main_cpp] = (workdir / ".esphome" / "build").glob("*/src/main.cpp")
    code = main_cpp.read_text()
    # Every sensor is an encrypted, provisionable API server and a passive BLE proxy.
    assert "api::APIServer" in code
    assert "bluetooth_proxy::BluetoothProxy" in code
    assert "improv_serial" in code
    if config.stem == "room-sensor":
        assert "voice_assistant::VoiceAssistant" in code
        assert "i2s_audio::I2SAudioMicrophone" in code


def test_room_sensor_pins_match_the_wiring_table() -> None:
    wiring = (ROOT / "hardware" / "wiring.md").read_text()
    yaml = (ESPHOME_DIR / "room-sensor.yaml").read_text()
    subs = dict(re.findall(r"^  (\w+_pin): (GPIO\d+)$", yaml, re.MULTILINE))
    assert subs, "no *_pin substitutions in room-sensor.yaml"
    for key, pin in subs.items():
        assert re.search(rf"`{key}`.*\b{pin}\b", wiring), f"{key}={pin} missing from wiring.md"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (("i2s_din_pin: ${i2s_sd_pin}", "i2s_din_pin: GPIO99"), "GPIO99"),
        (("  encryption: {}", "  encryption: {}\n  bogus_option: 1"), "bogus_option"),
        (("bits_per_sample: 32bit", "bits_per_sample: 31bit"), "bits_per_sample"),
    ],
    ids=["bad-pin", "unknown-key", "bad-value"],
)
def test_a_broken_config_fails(
    esphome: str, workdir: Path, breakage: tuple[str, str], expected: str
) -> None:
    old, new = breakage
    for path in [workdir / "room-sensor.yaml", *workdir.glob("packages/*.yaml")]:
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, new, 1))
            break
    else:
        pytest.fail(f"{old!r} not found in any configuration")
    proc = run(esphome, workdir, "config", "room-sensor.yaml")
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr
