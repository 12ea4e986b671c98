"""Train the sound-event CNN and write the int8 model the hub ships (needs models/.cache/venv).

Run ``models/train.sh`` (sets up the venv, trains, then evaluates with the hub's own runtime).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # bit-reproducible CPU kernels

import tensorflow as tf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.sensing.audio import features  # noqa: E402
from hub.sensing.audio.classes import CLASSES  # noqa: E402
from hub.sensing.audio.classifier import META_FILE, MODEL_FILE, frontend_settings  # noqa: E402
from models import dataset  # noqa: E402

OUT = ROOT / "hub" / "sensing" / "audio"
SEED = 20261123


def build_model() -> tf.keras.Model:
    """A small CNN on one-second log-mel patches (about 75 k parameters)."""
    layers = tf.keras.layers
    inp = layers.Input((features.N_FRAMES, features.N_MELS, 1), name="log_mel")
    x = layers.Rescaling(1 / 25.0, offset=2.0)(inp)  # dB in [-100, 0] to about [-2, 2]
    for width, pool in ((16, True), (32, True), (48, True), (64, False)):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        if pool:
            x = layers.MaxPooling2D(2)(x)
    # Flatten, not global pooling: the order of events within the second (one voice, then
    # another) is what tells a conversation from one speaker.
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    out = layers.Dense(len(CLASSES), activation="softmax", name="scores")(x)
    return tf.keras.Model(inp, out)


def spec_augment(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Random time and frequency masks plus a gain shift (robust to mic level)."""
    t0 = tf.random.uniform((), 0, features.N_FRAMES - 8, dtype=tf.int32)
    f0 = tf.random.uniform((), 0, features.N_MELS - 5, dtype=tf.int32)
    t_mask = tf.logical_or(tf.range(features.N_FRAMES) < t0, tf.range(features.N_FRAMES) >= t0 + 6)
    f_mask = tf.logical_or(tf.range(features.N_MELS) < f0, tf.range(features.N_MELS) >= f0 + 4)
    mask = tf.cast(t_mask[:, None, None], tf.float32) * tf.cast(f_mask[None, :, None], tf.float32)
    floor = tf.constant(features.FLOOR_DB)
    x = x + tf.random.uniform((), -6.0, 6.0)
    x = tf.clip_by_value(x, floor, 0.0)
    return x * mask + floor * (1 - mask), y


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--per-class", type=int, default=None)
    parser.add_argument("--tts-voices", type=int, default=dataset.TTS_VOICES)
    parser.add_argument("--voices-per-class", type=int, default=dataset.TRAIN_EXTRA["speech"])
    parser.add_argument("--out", type=Path, default=OUT, help="where the model and metadata go")
    args = parser.parse_args()
    dataset.TTS_VOICES = args.tts_voices
    dataset.TRAIN_EXTRA.update(speech=args.voices_per_class, conversation=args.voices_per_class)
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()

    t0 = time.perf_counter()
    train = dataset.build("train", args.per_class, seed=SEED)
    x_train = train.features()[..., None]
    y_train = train.labels
    print(f"train: {len(y_train)} examples, features in {time.perf_counter() - t0:.0f}s")

    ds = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(y_train), seed=SEED)
        .map(spec_augment)
        .batch(64)
    )
    model = build_model()
    model.summary(print_fn=print)
    steps = args.epochs * int(np.ceil(len(y_train) / 64))
    lr = tf.keras.optimizers.schedules.CosineDecay(3e-3, steps)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(ds, epochs=args.epochs, verbose=2)

    rng = np.random.default_rng(SEED)
    representative = x_train[rng.choice(len(x_train), 400, replace=False)]

    def rep_data():  # type: ignore[no-untyped-def]
        for row in representative:
            yield [row[None].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = rep_data
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    tflite = converter.convert()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / MODEL_FILE).write_bytes(tflite)
    meta = {
        "classes": list(CLASSES),
        "frontend": frontend_settings(),
        "seed": SEED,
        "epochs": args.epochs,
        "tts_voices": args.tts_voices,
        "train_examples": len(y_train),
        "tensorflow": tf.__version__,
    }
    (args.out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / MODEL_FILE} ({len(tflite)} bytes) in {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
