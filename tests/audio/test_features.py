"""The log-mel front end: its maths, and that training sees exactly what the hub sees."""

from __future__ import annotations

import numpy as np
import pytest

from hub.sensing.audio import features
from hub.sensing.audio.classes import SAMPLE_RATE
from hub.sensing.audio.features import FLOOR_DB, N_FRAMES, N_MELS, log_mel
from models import dataset


def sine(hz: float, dbfs: float) -> np.ndarray:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    return np.round(np.sin(2 * np.pi * hz * t) * 32767 * 10 ** (dbfs / 20)).astype(np.int16)


def band_centres() -> np.ndarray:
    edges = features._mel_to_hz(
        np.linspace(
            features._hz_to_mel(np.array(features.F_MIN)),
            features._hz_to_mel(np.array(features.F_MAX)),
            N_MELS + 2,
        )
    )
    return edges[1:-1]


def test_shape_and_dtype() -> None:
    out = log_mel(np.zeros((3, SAMPLE_RATE), np.int16))
    assert out.shape == (3, N_FRAMES, N_MELS) == (3, 61, 40)
    assert out.dtype == np.float32


def test_silence_sits_on_the_floor() -> None:
    assert np.all(log_mel(np.zeros((1, SAMPLE_RATE), np.int16)) == np.float32(FLOOR_DB))


@pytest.mark.parametrize("hz", [200.0, 1000.0, 3000.0, 6000.0])
def test_a_tone_lands_in_its_band_at_its_level(hz: float) -> None:
    loud = log_mel(sine(hz, 0.0)[None])[0].mean(axis=0)
    quiet = log_mel(sine(hz, -20.0)[None])[0].mean(axis=0)
    band = int(np.argmax(loud))
    assert abs(band_centres()[band] - hz) < 0.1 * hz + 60
    assert -3.5 < loud[band] < 2.0  # full scale reads about 0 dB (Hann leakage adds <= 1.8)
    assert quiet[band] == pytest.approx(loud[band] - 20.0, abs=0.2)


def test_matches_an_independent_float64_reference() -> None:
    rng = np.random.default_rng(1)
    pcm = (rng.normal(0, 3000, (2, SAMPLE_RATE))).astype(np.int16)
    x = pcm.astype(np.float64) / 32768
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(512) / 512)
    win *= 2 / win.sum()
    ref = np.empty((2, N_FRAMES, N_MELS))
    bank = features._mel_filterbank().astype(np.float64)
    for i in range(2):
        for f in range(N_FRAMES):
            frame = x[i, f * 256 : f * 256 + 512] * win
            power = np.abs(np.fft.rfft(frame)) ** 2
            ref[i, f] = 10 * np.log10(np.maximum(power @ bank, 1e-10))
    np.testing.assert_allclose(log_mel(pcm), ref, atol=1e-3)


def test_rejects_pcm_that_is_not_whole_seconds() -> None:
    with pytest.raises(ValueError, match="shape"):
        log_mel(np.zeros((1, 8000), np.int16))


def test_training_features_are_the_hub_features(audio_data) -> None:
    """models.dataset computes its features with the hub's own function, not a copy."""
    assert dataset.log_mel is features.log_mel
    split = dataset.build("test", per_class=3)
    np.testing.assert_array_equal(split.features(), log_mel(split.pcm))
