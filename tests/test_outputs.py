"""Model outputs that are parts of one buffer: a slice at the start of a concatenation bufferizes to a
view of it (other slices become copies), and each output is read from its own offset and size in the
arena (`MemoryPlan.io`). Checked on the host against IREE's own compile of the same TOSA program. (Found
by `mlir-fdt fuzz --seed 22 --run qemu`: the output entry had the whole concatenation's bytes.)"""

from __future__ import annotations

import numpy as np
import pytest

from mlir_fdt.compiler import CompileOptions, compile_model

_CONV = """
    %w{n} = tosa.const values(dense<{w}> : tensor<{c}x1x1x{ci}xf32>) : () -> tensor<{c}x1x1x{ci}xf32>
    %b{n} = tosa.const values(dense<{b}> : tensor<{c}xf32>) : () -> tensor<{c}xf32>
    %c{n} = tosa.conv2d {x}, %w{n}, %b{n}, %z, %z pad([0, 0, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(f32)
        : (tensor<1x4x4x{ci}xf32>, tensor<{c}x1x1x{ci}xf32>, tensor<{c}xf32>, tensor<1xf32>, tensor<1xf32>)
        -> tensor<1x4x4x{c}xf32>"""


def _model(outputs: list[tuple[list[int], list[int]]]) -> str:
    """Two 1x1 convolutions of a 1x4x4x3 input concatenated along channels (1x4x4x10), and the model's
    outputs are slices (start, size) of the concatenation."""
    rng = np.random.default_rng(7)

    def dense(shape):
        return "[" + ", ".join(f"{v:.4f}" for v in rng.uniform(-1, 1, int(np.prod(shape)))) + "]"

    def conv(n, x, c):
        w = np.array(eval(dense([c, 3]))).reshape(c, 1, 1, 3).tolist()
        return _CONV.format(n=n, x=x, c=c, ci=3, w=w, b=eval(dense([c]))).replace("'", "")

    results = ", ".join(f"tensor<{'x'.join(map(str, size))}xf32>" for _, size in outputs)
    lines = [f"func.func @main(%arg0: tensor<1x4x4x3xf32>) -> ({results}) {{",
             "    %z = tosa.const values(dense<0.0> : tensor<1xf32>) : () -> tensor<1xf32>",
             conv(0, "%arg0", 4), conv(1, "%arg0", 6),
             "    %cat = tosa.concat %c0, %c1 axis(3)"
             " : (tensor<1x4x4x4xf32>, tensor<1x4x4x6xf32>) -> tensor<1x4x4x10xf32>"]
    names = []
    for k, (start, size) in enumerate(outputs):
        t = f"tensor<{'x'.join(map(str, size))}xf32>"
        lines += [f"    %s{k} = tosa.const_shape values(dense<{start}> : tensor<4xindex>) : () -> !tosa.shape<4>",
                  f"    %n{k} = tosa.const_shape values(dense<{size}> : tensor<4xindex>) : () -> !tosa.shape<4>",
                  f"    %o{k} = tosa.slice %cat, %s{k}, %n{k} : (tensor<1x4x4x10xf32>, !tosa.shape<4>, "
                  f"!tosa.shape<4>) -> {t}"]
        names.append(f"%o{k}")
    lines += [f"    return {', '.join(names)} : {results}", "}"]
    return "\n".join(lines) + "\n"


CASES = {
    "first-rows": [([0, 0, 0, 0], [1, 2, 4, 10])],
    "first-pixel": [([0, 0, 0, 0], [1, 1, 1, 10])],
    # the first rows and the whole concatenation: two outputs of different sizes in one buffer
    "first-rows-and-all": [([0, 0, 0, 0], [1, 2, 4, 10]), ([0, 0, 0, 0], [1, 4, 4, 10])],
    # the second rows (a copy) and the first pixel (a view)
    "last-rows-and-first-pixel": [([0, 2, 0, 0], [1, 2, 4, 10]), ([0, 0, 0, 0], [1, 1, 1, 10])],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_parts_of_a_buffer_read_back_exactly(case, tmp_path):
    model = tmp_path / "model.mlir"
    model.write_text(_model(CASES[case]))
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["match"], report["max_abs_diff"]
    sizes = [int(np.prod(size)) * 4 for _, size in CASES[case]]
    assert [o["bytes"] for o in report["outputs"]] == sizes
