"""Resampling to 16 kHz: tones survive, aliases do not."""

from __future__ import annotations

import numpy as np
import pytest

from hub.sensing.audio.resample import resample


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_a_tone_keeps_its_frequency_and_level(rate: int) -> None:
    t = np.arange(rate) / rate
    y = resample(np.sin(2 * np.pi * 700 * t).astype(np.float32), rate, 16000)
    assert len(y) == 16000
    ref = np.sin(2 * np.pi * 700 * np.arange(16000) / 16000)
    assert np.abs(y[300:-300] - ref[300:-300]).max() < 1e-3


def test_content_above_the_new_nyquist_is_removed() -> None:
    t = np.arange(44100) / 44100
    y = resample(np.sin(2 * np.pi * 11000 * t).astype(np.float32), 44100, 16000)
    assert np.sqrt(np.mean(y[300:-300] ** 2)) < 1e-3


def test_same_rate_is_a_copy_and_bad_rates_fail() -> None:
    x = np.ones(10, np.float32)
    assert np.array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(ValueError, match="positive"):
        resample(x, 0, 16000)
