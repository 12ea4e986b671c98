"""The Improv client against a fake ESPHome device on a pseudo-terminal."""

from __future__ import annotations

import time

import pytest

from hub.errors import ProvisioningError
from hub.provision.improv import ImprovClient, State
from tests.provision.fakes import FakeEsphome, GarbageDevice, SilentDevice

pytestmark = pytest.mark.timeout(30)


def test_state_and_device_info(port_of) -> None:
    with FakeEsphome(name="homehub-room-123abc") as dev:
        client = ImprovClient(port_of(dev))
        assert client.current_state() is State.AUTHORIZED
        info = client.device_info()
    assert (info.firmware, info.chip, info.name) == ("ESPHome", "ESP32-S3", "homehub-room-123abc")


def test_provisioned_device_answers_state_then_urls_then_info(port_of) -> None:
    with FakeEsphome(name="homehub-room-0a0b0c", provisioned=True) as dev:
        client = ImprovClient(port_of(dev))
        assert client.current_state() is State.PROVISIONED
        # The URL result that follows the state must not be taken for the device info.
        assert client.device_info().name == "homehub-room-0a0b0c"


def test_wifi_credentials_reach_the_device(port_of) -> None:
    with FakeEsphome(ssid="home-net", passphrase="s3cret pass") as dev:
        client = ImprovClient(port_of(dev))
        urls = client.send_wifi("home-net", "s3cret pass", timeout=5)
        assert client.current_state() is State.PROVISIONED
    assert urls == ("http://192.168.1.23",)
    assert dev.wifi_attempts == [("home-net", "s3cret pass")]


def test_joined_device_without_urls_is_still_joined(port_of) -> None:
    with FakeEsphome(ssid="n", passphrase="p", send_urls=False) as dev:
        client = ImprovClient(port_of(dev))
        assert client.send_wifi("n", "p", timeout=5) == ()
        assert client.current_state() is State.PROVISIONED


def test_wrong_wifi_is_a_clear_error(port_of) -> None:
    with FakeEsphome(ssid="home-net", passphrase="right") as dev:
        client = ImprovClient(port_of(dev))
        with pytest.raises(ProvisioningError, match="unable to connect"):
            client.send_wifi("home-net", "wrong", timeout=5)


@pytest.mark.parametrize("device", [GarbageDevice, SilentDevice])
def test_no_answer_times_out_with_a_clear_error(port_of, device: type) -> None:
    with device() as dev:
        client = ImprovClient(port_of(dev), timeout=0.5)
        start = time.monotonic()
        with pytest.raises(ProvisioningError, match=r"no Improv answer .* within 0\.5s") as err:
            client.current_state()
        assert time.monotonic() - start < 2
    expected = "last output" if device is GarbageDevice else "sent nothing"
    assert expected in str(err.value)
