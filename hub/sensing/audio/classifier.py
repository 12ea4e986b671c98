"""The shipped int8 sound-event model, run with tflite-runtime or ai-edge-litert.

The runtime is imported lazily: ``homehub --help`` and the parts of the hub that never hear audio
do not pay for it. Without a runtime or a model the hub falls back to ``EnergyClassifier``.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from importlib import resources
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hub.errors import AudioError
from hub.sensing.audio import features
from hub.sensing.audio.classes import CLASSES, SAMPLE_RATE
from hub.sensing.audio.stream import Classifier, EnergyClassifier

_LOGGER = logging.getLogger(__name__)

MODEL_FILE: Final = "sound_events.tflite"
"""Package data next to this module; written by ``models/train.py``."""
META_FILE: Final = "sound_events.json"
"""Class order and front-end settings the model was trained with."""
RUNTIMES: Final = ("tflite_runtime", "ai_edge_litert")
"""Tried in this order: tflite-runtime where it installs (bookworm), its successor otherwise."""


def load_default_classifier(runtime: str | None = None) -> Classifier:
    """The shipped model if a runtime and the model are present, else the energy fallback."""
    try:
        return TFLiteClassifier.from_package(runtime)
    except AudioError as err:
        _LOGGER.warning("sound model unavailable, using loudness only: %s", err)
        return EnergyClassifier()


def frontend_settings() -> dict[str, float | int]:
    """The front-end constants a model is tied to (stored in its metadata at training time)."""
    return {
        "sample_rate": SAMPLE_RATE,
        "n_fft": features.N_FFT,
        "hop": features.HOP,
        "n_mels": features.N_MELS,
        "f_min": features.F_MIN,
        "f_max": features.F_MAX,
        "floor_db": features.FLOOR_DB,
    }


class TFLiteClassifier:
    """Per-second class probabilities from an int8 TFLite model; safe to call from any thread."""

    def __init__(self, model: bytes, meta: dict[str, Any], runtime: str | None = None) -> None:
        _check_meta(meta)
        self.runtime, module = _import_runtime(runtime)
        try:
            self._interpreter = module.Interpreter(
                model_content=model,
                num_threads=1,
                # The built-in int8 kernels give bit-identical scores in tflite-runtime 2.14 and
                # ai-edge-litert; ai-edge-litert's default XNNPACK delegate differs by up to 0.1.
                experimental_op_resolver_type=module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            )
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            msg = f"{MODEL_FILE}: not a loadable TFLite model ({err})"
            raise AudioError(msg) from err
        (inp,) = self._interpreter.get_input_details()
        (out,) = self._interpreter.get_output_details()
        expected = (1, features.N_FRAMES, features.N_MELS, 1)
        if tuple(inp["shape"]) != expected or out["shape"][-1] != len(CLASSES):
            got = f"{inp['shape']} -> {out['shape']}"
            msg = f"model maps {got}, expected {expected} -> {len(CLASSES)} classes"
            raise AudioError(msg)
        self._in_index, self._out_index = inp["index"], out["index"]
        self._in_scale, self._in_zero = inp["quantization"]
        self._out_scale, self._out_zero = out["quantization"]
        self._in_dtype = inp["dtype"]
        self._lock = threading.Lock()

    @classmethod
    def from_package(cls, runtime: str | None = None) -> TFLiteClassifier:
        """Load the model shipped inside the ``hub`` package."""
        here = resources.files(__package__ or "hub.sensing.audio")
        try:
            model = here.joinpath(MODEL_FILE).read_bytes()
            meta = json.loads(here.joinpath(META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            msg = f"cannot read the shipped model: {err}"
            raise AudioError(msg) from err
        return cls(model, meta, runtime)

    def classify(self, seconds: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
        """``seconds`` has shape (n, 16000); returns probabilities of shape (n, len(CLASSES))."""
        return self.classify_features(features.log_mel(seconds))

    def classify_features(self, patches: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Probabilities for log-mel patches of shape (n, N_FRAMES, N_MELS)."""
        quantised = self._quantise(patches)
        out = np.empty((len(patches), len(CLASSES)), dtype=np.float32)
        with self._lock:
            for i, patch in enumerate(quantised):
                self._interpreter.set_tensor(self._in_index, patch[None, :, :, None])
                self._interpreter.invoke()
                raw = self._interpreter.get_tensor(self._out_index)[0]
                out[i] = (raw.astype(np.float32) - self._out_zero) * self._out_scale
        return out

    def _quantise(self, patches: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
        """Float features to the model's int8 input."""
        if self._in_scale == 0:
            return patches.astype(self._in_dtype)
        q = np.round(patches / self._in_scale + self._in_zero)
        info = np.iinfo(self._in_dtype)
        clipped: npt.NDArray[Any] = np.clip(q, info.min, info.max).astype(self._in_dtype)
        return clipped


def _import_runtime(name: str | None) -> tuple[str, Any]:
    """The first importable runtime (or the named one) and its ``interpreter`` module."""
    for candidate in (name,) if name else RUNTIMES:
        try:
            module = importlib.import_module(f"{candidate}.interpreter")
        except ImportError:
            continue
        return candidate, module
    msg = f"no TFLite runtime installed (tried {', '.join((name,) if name else RUNTIMES)})"
    raise AudioError(msg)


def _check_meta(meta: dict[str, Any]) -> None:
    """Refuse a model trained for another class list or another front end."""
    if tuple(meta.get("classes", ())) != CLASSES:
        msg = f"model classes {meta.get('classes')} differ from the hub's {list(CLASSES)}"
        raise AudioError(msg)
    if meta.get("frontend") != frontend_settings():
        msg = f"model front end {meta.get('frontend')} differs from {frontend_settings()}"
        raise AudioError(msg)
