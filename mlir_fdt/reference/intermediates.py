"""`--check-intermediates`: every intermediate tensor of the untiled program against TFLite Micro's.

A wrong output says that something is wrong, not where. This check names the layer: the prepared
tensor program (imported with the TFLite tensor names as locations; the program every objective
starts from) gets a variant whose entry function also returns a copy of every value that holds a
TFLite tensor (`tensor_values.py`). The variant goes through the untiled lowering, arena plan and
host compilation of the program itself (IREE llvm-cpu, like the `--run` host check), runs on the
checked inputs, and each returned tensor is compared with the one TFLite Micro preserved
(int8/int16 bit for bit, float within the output tolerance scaled by the tensor's largest
magnitude). The first mismatch in operator order is the first wrong layer.

The variant is not the program that ships: the copies are extra buffers that live until the end,
so its arena is larger and laid out otherwise (greedy planner), and a value the shipped program
computes one element at a time inside its consumer's loop (a float convolution whose element-wise
consumer is another operator) is whole in the variant. The layers' code is the same lowering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..codegen.iree_compile import compile_host
from ..codegen.wrap_executable import WrapExecutable
from ..errors import InternalError
from ..importers.tflite_flatbuffer import TfliteModel
from ..ir import copy_module, entry_function, func, ir
from ..pipeline import lower
from .compare import largest_magnitude, max_abs_diff
from .host import run_arena_program
from .tensor_values import TensorValue, find_tensor_values, reshape_root


@dataclass
class IntermediatesCheck:
    """What `check_intermediates` compared and found."""

    compared: int
    skipped: list[dict]                # tensors with no value of their own, and why
    mismatches: list[dict] = field(default_factory=list)  # in operator order: the first is the first wrong layer
    tensors: list[dict] = field(default_factory=list)     # every compared tensor with its worst difference

    @property
    def match(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict:
        reasons: dict[str, int] = {}
        for s in self.skipped:
            reasons[s["reason"].split(":")[0]] = reasons.get(s["reason"].split(":")[0], 0) + 1
        return {"compared": self.compared, "skipped": len(self.skipped), "skipped_by_reason": reasons,
                "match": self.match, "mismatches": self.mismatches, "tensors": self.tensors,
                "skipped_tensors": self.skipped}


SKIPPED_INPUT_VIEW = "view: a reshape of a model input (the same bytes)"


def return_also(module: ir.Module, values: list[ir.Value]) -> None:
    """Make the entry function also return `values` (after its own results)."""
    with module.context:
        fn = entry_function(module)
        entry = fn.regions[0].blocks[0]
        ret = entry.operations[len(entry.operations) - 1]
        operands = list(ret.operands) + values
        with ir.InsertionPoint(ret), ret.location:
            func.ReturnOp(operands)
        ret.erase()
        old = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
        fn.attributes["function_type"] = ir.TypeAttr.get(
            ir.FunctionType.get(list(old.inputs), [v.type for v in operands]))
        if "res_attrs" in fn.attributes:
            attrs = list(ir.ArrayAttr(fn.attributes["res_attrs"]))
            fn.attributes["res_attrs"] = ir.ArrayAttr.get(attrs + [ir.DictAttr.get({})] * len(values))


@dataclass
class Variant:
    """The compiled host program that also returns the intermediate tensors."""

    vmfb: Path
    arena_bytes: int
    inputs: list[dict]                           # input buffers (offset, bytes), in argument order
    tensors: list[tuple[TensorValue, dict]]      # each compared tensor and the output buffer holding it
    skipped: list[dict]


def copy_out(value: ir.Value) -> ir.Value:
    """A copy of `value` in a buffer of its own (`bufferization.alloc_tensor copy(...)`), made where
    `value` is computed: a returned value may be a slice or reshape that would share the buffer of
    another result, and `value` itself keeps its lifetime and in-place reuse as in the real program."""
    op = value.owner.operation
    with ir.InsertionPoint.after(op), op.location:
        copy = ir.Operation.create("bufferization.alloc_tensor", results=[value.type], operands=[value],
                                   attributes={"operandSegmentSizes": ir.DenseI32ArrayAttr.get([0, 1, 0])})
    return copy.result


def build_variant(prepared: ir.Module, model: TfliteModel, out_dir: Path, alignment: int,
                  iree_flags: list[str]) -> Variant:
    """Lower and compile, untiled, a copy of `prepared` whose entry function also returns a copy of
    every value holding a TFLite tensor; a reshape of a model input is skipped (it is the input's bytes)."""
    variant = copy_module(prepared)
    with variant.context:
        fn = entry_function(variant)
        found = find_tensor_values(fn, model)
        entry = fn.regions[0].blocks[0]
        n_own = len(entry.operations[len(entry.operations) - 1].operands)
        skipped, kept = list(found.skipped), []
        for tv in found.found:
            if isinstance(reshape_root(tv.value).owner, ir.Block):
                skipped.append({"tensor": tv.tensor.name, "operator_index": tv.operator.index,
                                "operator": tv.operator.name, "reason": SKIPPED_INPUT_VIEW})
            else:
                kept.append(tv)
        return_also(variant, [copy_out(tv.value) for tv in kept])
    lowered = lower(variant, None, "greedy", alignment)
    executable = WrapExecutable(executable_name="fdt_intermediates").run(variant)
    source = out_dir / "intermediates.mlir"
    source.write_text(str(executable))
    vmfb = compile_host(source, out_dir / "intermediates.host.vmfb", iree_flags)
    outputs = lowered.plan.io("output")[n_own:]
    if len(outputs) != len(kept):
        raise InternalError(f"--check-intermediates: the variant returns {len(kept)} tensors but its plan has "
                            f"{len(outputs)} output buffers for them")
    return Variant(vmfb, lowered.plan.arena_bytes, lowered.plan.io("input"), list(zip(kept, outputs)), skipped)


def compare_tensor(ours: np.ndarray, reference: np.ndarray, tolerance_scale: float) -> tuple[float, float]:
    """(max |ours - reference|, tolerance): 0 for integers, relative for floats."""
    ref = np.asarray(reference)
    ours = ours.reshape(ref.shape)
    if np.issubdtype(ours.dtype, np.integer):
        return max_abs_diff(ours, ref), 0.0
    return max_abs_diff(ours, ref), tolerance_scale * max(1.0, largest_magnitude([ref]))


def check_intermediates(prepared: ir.Module, model_path: Path, model: TfliteModel, inputs_per_seed: list[list],
                        out_dir: Path, alignment: int, iree_flags: list[str],
                        float_tolerance: float) -> IntermediatesCheck:
    """Run the variant and TFLite Micro (all tensors preserved) on every input set; compare."""
    from .tflm import run_tflite_micro_tensors
    variant = build_variant(prepared, model, out_dir, alignment, iree_flags)
    worst = [(0.0, 0.0)] * len(variant.tensors)
    for inputs in inputs_per_seed:
        reference = run_tflite_micro_tensors(model_path, inputs, [tv.tensor_index for tv, _ in variant.tensors])
        raw = run_arena_program(variant.vmfb, variant.arena_bytes,
                                [(b.offset, x.tobytes()) for b, x in zip(variant.inputs, inputs)],
                                [(b.offset, b.bytes) for _, b in variant.tensors])
        for k, ((tv, _), data) in enumerate(zip(variant.tensors, raw)):
            ours = np.frombuffer(data, np.dtype(tv.tensor.dtype))
            diff, tolerance = compare_tensor(ours, reference[tv.tensor_index], float_tolerance)
            worst[k] = (max(worst[k][0], diff), tolerance)
    check = IntermediatesCheck(len(variant.tensors), variant.skipped)
    for (tv, _), (diff, tolerance) in zip(variant.tensors, worst):
        row = {"tensor": tv.tensor.name, "operator_index": tv.operator.index, "operator": tv.operator.name,
               "dtype": tv.tensor.dtype, "shape": tv.tensor.shape, "max_abs_diff": diff, "tolerance": tolerance}
        check.tensors.append(row)
        if diff > tolerance:
            check.mismatches.append(row)
    return check
