"""fdt-materialize-constant-outputs: an output that is a constant (ONNX Shape of a static input, a detection
model's anchors) is copied into its own buffer, so that it is an output of the arena like any other.

Otherwise the program returns the constant's global, which is in no arena buffer: the application would find
no output there (the checks stopped with an internal error). The copy is a `linalg.generic` from the constant,
placed after the passes that would fold it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.linalg_util import defining_op
from ..ir import copy_of, entry_function, ir
from ..passes import ModulePass


@dataclass(frozen=True)
class MaterializeConstantOutputs(ModulePass):
    """Return a copy of each constant output, made in the program."""

    name = "fdt-materialize-constant-outputs"
    summary = "copy constant outputs into buffers of their own"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            fn = entry_function(module)
            ret = list(fn.regions[0].blocks[0].operations)[-1].operation
            for i, value in enumerate(list(ret.operands)):
                producer = defining_op(value)
                if producer is not None and producer.name == "arith.constant" and \
                        isinstance(value.type, ir.RankedTensorType):
                    with ir.InsertionPoint(ret):
                        ret.operands[i] = copy_of(value).results[0]
