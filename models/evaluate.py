"""Evaluate the shipped model on the held-out split with the hub's own runtime and front end.

``python -m models.evaluate [--runtime NAME] [--json FILE]`` prints per-class precision, recall
and F1, the confusion matrix and the issue's must-show figures; exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.sensing.audio.classes import CLASSES  # noqa: E402
from hub.sensing.audio.classifier import TFLiteClassifier  # noqa: E402
from models import dataset  # noqa: E402

MIN_MACRO_F1 = 0.85
MAX_SNORING_FALSE_ALARMS = 0.05
MIN_VOICES_ACCURACY = 0.85


def metrics(labels: np.ndarray, predicted: np.ndarray, kinds: list[str]) -> dict[str, object]:
    """Per-class and summary figures for integer labels and predictions."""
    n = len(CLASSES)
    confusion = np.zeros((n, n), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    tp = np.diag(confusion).astype(float)
    precision = tp / np.maximum(confusion.sum(axis=0), 1)
    recall = tp / np.maximum(confusion.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    snore = CLASSES.index("snoring")
    people = np.isin(labels, [CLASSES.index(c) for c in ("speech", "conversation", "tv")])
    voices = np.isin(labels, [CLASSES.index("speech"), CLASSES.index("conversation")])
    kind_arr = np.array(kinds)
    per_kind = {
        k: float(np.mean(predicted[kind_arr == k] == labels[kind_arr == k]))
        for k in sorted(set(kinds))
    }
    return {
        "examples": len(labels),
        "accuracy": float(np.mean(labels == predicted)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(
                CLASSES, precision, recall, f1, confusion.sum(axis=1), strict=True
            )
        },
        "snoring_false_alarms_on_speech_and_tv": float(np.mean(predicted[people] == snore)),
        "one_voice_vs_conversation_accuracy": float(np.mean(predicted[voices] == labels[voices])),
        "accuracy_by_source": per_kind,
        "confusion": confusion.tolist(),
    }


def report(m: dict[str, object]) -> str:
    """Human-readable tables (markdown, pasted into the model card)."""
    lines = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    per_class = m["per_class"]
    assert isinstance(per_class, dict)
    for c, v in per_class.items():
        lines.append(
            f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        )
    lines += ["", "confusion (rows: truth, columns: predicted, order as above)", "```"]
    short = [c[:5] for c in CLASSES]
    lines.append("       " + " ".join(f"{s:>5}" for s in short))
    confusion = m["confusion"]
    assert isinstance(confusion, list)
    for s, row in zip(short, confusion, strict=True):
        lines.append(f"{s:>6} " + " ".join(f"{v:5d}" for v in row))
    lines.append("```")
    by_source = m["accuracy_by_source"]
    assert isinstance(by_source, dict)
    lines.append("accuracy by source: " + ", ".join(f"{k} {v:.3f}" for k, v in by_source.items()))
    lines.append(
        f"macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}  "
        "snoring false alarms on speech/conversation/TV "
        f"{m['snoring_false_alarms_on_speech_and_tv']:.3f}  "
        f"one voice vs conversation {m['one_voice_vs_conversation_accuracy']:.3f}"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=("tflite_runtime", "ai_edge_litert"), default=None)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    t0 = time.perf_counter()
    test = dataset.build("test")
    classifier = TFLiteClassifier.from_package(args.runtime)
    scores = classifier.classify(test.pcm)
    predicted = scores.argmax(axis=1)
    m = metrics(test.labels, predicted, test.kinds)
    m["runtime"] = classifier.runtime
    print(report(m))
    took = time.perf_counter() - t0
    print(f"({classifier.runtime}, {len(test.labels)} held-out seconds, {took:.1f}s)")
    if args.json:
        args.json.write_text(json.dumps(m, indent=2) + "\n", encoding="utf-8")
    missed = [
        name
        for name, ok in (
            (
                f"snoring false alarms <= {MAX_SNORING_FALSE_ALARMS}",
                m["snoring_false_alarms_on_speech_and_tv"] <= MAX_SNORING_FALSE_ALARMS,
            ),
            (
                f"one voice vs conversation >= {MIN_VOICES_ACCURACY}",
                m["one_voice_vs_conversation_accuracy"] >= MIN_VOICES_ACCURACY,
            ),
        )
        if not ok
    ]
    for name in missed:
        print(f"MISSED (issue 3 target, not a CI gate): {name}")
    if m["macro_f1"] < MIN_MACRO_F1:
        print(f"FAILED: macro-F1 {m['macro_f1']:.3f} < {MIN_MACRO_F1}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
