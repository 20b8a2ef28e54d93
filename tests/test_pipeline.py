"""`mlir-fdt compile` and `mlir-fdt-opt` run one list of passes (pipeline.py): `fdt-prepare` and `fdt-lower`
in mlir-fdt-opt, driven in-process, give the program the compiler's own stages give."""

from __future__ import annotations

import pytest

from conftest import model_path
from mlir_fdt.errors import FdtError
from mlir_fdt.importers import import_model
from mlir_fdt.ir import new_context
from mlir_fdt.passes import get_all_passes, parse_pipeline
from mlir_fdt.pipeline import BUFFER_PASSES, PREPARE_PASSES, SIMD32_PASSES, lower, named_pipeline, \
    prepare_tensor_program
from mlir_fdt.tools.opt import main as opt_main


@pytest.mark.parametrize("kernels", ["scalar", "simd32", "helium"])
def test_opt_pipelines_equal_the_compilers_stages(tmp_path, kernels):
    ctx = new_context()
    module = import_model(model_path("kws_int8"), ctx)
    source = tmp_path / "imported.mlir"
    source.write_text(str(module))
    prepare_tensor_program(module)
    lower(module, None, kernels=kernels)
    out = tmp_path / "opt.mlir"
    assert opt_main([str(source), "-p", f"fdt-prepare,fdt-lower{{kernels={kernels}}}", "-o", str(out)]) == 0
    assert out.read_text() == str(module)


def test_named_pipelines_name_registered_passes():
    registry = get_all_passes()
    for text in [*named_pipeline("fdt-prepare", {}), *named_pipeline("fdt-lower", {"kernels": "helium"})]:
        (element,) = parse_pipeline(text)
        assert element.name in registry or element.name in ("canonicalize", "cse"), element.name
    assert named_pipeline("fdt-prepare", {}) == list(PREPARE_PASSES)
    lowered = named_pipeline("fdt-lower", {"kernels": "simd32"})
    assert lowered[:len(BUFFER_PASSES)] == list(BUFFER_PASSES) and set(SIMD32_PASSES) <= set(lowered)


def test_bad_pipeline_options_are_named():
    with pytest.raises(FdtError, match="unknown option.*tiles of fdt-lower"):
        named_pipeline("fdt-lower", {"tiles": "2"})
    with pytest.raises(FdtError, match="option 'kernels' of fdt-lower expects one of scalar, simd32, helium"):
        named_pipeline("fdt-lower", {"kernels": "neon"})


def test_a_program_that_sets_iree_options_itself_can_opt_out():
    """mlir_fdt.ir sets IREE's global options (`--mlir-print-assume-verified`), which IREE accepts once a
    process: with MLIR_FDT_NO_IREE_OPTIONS=1 a program that set them first can still import mlir_fdt."""
    import os
    import subprocess
    import sys
    code = "from iree.compiler.api import ctypes_dl as c; c._initializeGlobalCL('app'); import mlir_fdt.ir"
    env = {**os.environ, "MLIR_FDT_NO_IREE_OPTIONS": "1"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).returncode == 0


def test_a_scalar_argument_is_an_error_naming_it(tmp_path, capsys):
    """The arena holds tensors: a scalar argument of the entry function is named, not a traceback."""
    source = tmp_path / "scalar.mlir"
    source.write_text("func.func @f(%x: tensor<4xf32>, %flag: i1) -> tensor<4xf32> {\n"
                      "  return %x : tensor<4xf32>\n}\n")
    assert opt_main([str(source), "-p", "fdt-bufferize,fdt-plan-memory"]) != 0
    assert "argument 1 of the entry function is a i1, not a tensor" in capsys.readouterr().err
