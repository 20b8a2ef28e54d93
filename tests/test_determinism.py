"""The same model compiled twice, into two different directories, gives the same bytes: the static
library, the executable given to IREE, and report.json but for its `timings`.

Two directories on purpose: IREE records the source file's name in the library (its source
location table, in flash), so a path of the output directory there would make the library
depend on where it was built."""

from __future__ import annotations

import json

import pytest
from conftest import model_path

from mlir_fdt.compiler import CompileOptions, compile_model

ARTEFACTS = ("fdt_model.o", "fdt_model.h", "fdt_model.mlir", "imported.mlir")


@pytest.mark.parametrize("name,objective", [("ad_int8", "untiled"), ("kws_int8", "untiled"), ("ad_int8", "min-ram")])
def test_compiling_twice_gives_identical_artefacts(tmp_path, name, objective):
    model = model_path(name)
    outs = [tmp_path / "first", tmp_path / "second-elsewhere"]
    reports = [compile_model(model, out, CompileOptions(objective=objective, seed=0)).to_json() for out in outs]
    for artefact in ARTEFACTS:
        assert (outs[0] / artefact).read_bytes() == (outs[1] / artefact).read_bytes(), artefact
    on_disk = [json.loads((out / "report.json").read_text()) for out in outs]
    for report in [*reports, *on_disk]:
        assert report.pop("timings")
    assert on_disk[0] == on_disk[1]
    assert reports[0] == reports[1]
