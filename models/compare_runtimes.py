"""Run the shipped model on fixed int8 inputs with one runtime; compare two runtimes' outputs.

Both run the built-in kernels as the hub does (see ``hub.sensing.audio.classifier``), and their
int8 outputs must be identical.

The inputs are quantised once (by the hub's front end under numpy 2) so that the comparison is
of the runtimes alone: tflite-runtime 2.14 needs numpy < 2 and runs in its own venv.

    python -m models.compare_runtimes inputs FILE.npz        # hub venv: held-out patches
    python models/compare_runtimes.py run FILE.npz OUT.npy   # any venv with a runtime
    python -m models.compare_runtimes compare A.npy B.npy
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "hub" / "sensing" / "audio" / "sound_events.tflite"
PER_CLASS = 20


def make_inputs(path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from hub.sensing.audio.classifier import TFLiteClassifier  # noqa: PLC0415 - hub venv only
    from models import dataset  # noqa: PLC0415

    test = dataset.build("test", per_class=PER_CLASS)
    classifier = TFLiteClassifier.from_package()
    np.savez(path, x=classifier._quantise(test.features()), labels=test.labels)
    print(f"{path}: {len(test.labels)} held-out patches")


def run(inputs: Path, out: Path, runtime: str | None) -> None:
    names = [runtime] if runtime else ["tflite_runtime", "ai_edge_litert"]
    for name in names:
        try:
            module = importlib.import_module(f"{name}.interpreter")
            break
        except ImportError:
            continue
    else:
        raise SystemExit(f"no runtime among {names}")
    interpreter = module.Interpreter(
        model_path=str(MODEL),
        num_threads=1,
        experimental_op_resolver_type=module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    outp = interpreter.get_output_details()[0]
    x = np.load(inputs)["x"]
    result = np.empty((len(x), outp["shape"][-1]), outp["dtype"])
    for i, patch in enumerate(x):
        interpreter.set_tensor(inp["index"], patch[None, :, :, None])
        interpreter.invoke()
        result[i] = interpreter.get_tensor(outp["index"])[0]
    np.save(out, result)
    print(f"{name} (numpy {np.__version__}): {len(x)} outputs -> {out}")


def compare(a: Path, b: Path) -> int:
    x, y = np.load(a).astype(np.int32), np.load(b).astype(np.int32)
    diff = np.abs(x - y)
    same_top = float(np.mean(x.argmax(axis=1) == y.argmax(axis=1)))
    print(f"{len(x)} outputs: max |int8 difference| {diff.max()}, same top class {same_top:.3f}")
    return 0 if diff.max() == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("inputs")
    p.add_argument("file", type=Path)
    p = sub.add_parser("run")
    p.add_argument("inputs", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--runtime")
    p = sub.add_parser("compare")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.cmd == "inputs":
        make_inputs(args.file)
    elif args.cmd == "run":
        run(args.inputs, args.out, args.runtime)
    else:
        return compare(args.a, args.b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
