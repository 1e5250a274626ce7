#!/usr/bin/env python3
"""Checks an exported ONNX model with ONNX's own tools and ONNX Runtime.

    python3 tools/onnx_check.py MODEL.onnx [REFERENCE.safetensors] [--rel 1e-4]

1. onnx.checker.check_model(full_check=True): the file is valid ONNX (structure,
   operator schemas, shape inference).
2. With REFERENCE (written by `<binary> export --reference FILE`): runs the model in
   ONNX Runtime on the reference inputs and compares every output with the project's,
   within --rel of the output's largest magnitude.

Needs: pip install onnx onnxruntime numpy safetensors
"""
import argparse
import sys

import numpy as np
import onnx


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("reference", nargs="?")
    ap.add_argument("--rel", type=float, default=1e-4)
    args = ap.parse_args()

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    opset = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    print(f"{args.model}: onnx.checker accepts it (IR {model.ir_version}, opset {opset}, "
          f"{len(model.graph.node)} nodes)")
    if not args.reference:
        return 0

    import onnxruntime as ort
    from safetensors.numpy import load_file

    ref = load_file(args.reference)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    feeds = {}
    for inp in session.get_inputs():
        if inp.name not in ref:
            print(f"{args.reference}: no input called {inp.name}", file=sys.stderr)
            return 1
        dtype = np.int64 if inp.type == "tensor(int64)" else np.float32
        feeds[inp.name] = ref[inp.name].astype(dtype)
    outputs = session.run(None, feeds)
    ok = True
    for meta, got in zip(session.get_outputs(), outputs):
        want = ref[meta.name]
        if got.shape != want.shape:
            print(f"{meta.name}: shape {got.shape}, the project's {want.shape}")
            ok = False
            continue
        scale = max(float(np.abs(want).max()), 1e-6)
        worst = float(np.abs(got - want).max()) / scale
        good = worst <= args.rel
        ok &= good
        print(f"{meta.name} {list(got.shape)}: ONNX Runtime {ort.__version__} vs the project: "
              f"largest difference {worst:.2e} of the largest value ({'ok' if good else 'TOO LARGE'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
