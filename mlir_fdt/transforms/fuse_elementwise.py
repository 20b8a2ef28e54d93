"""fdt-fuse-elementwise-chains: a chain of element-wise `linalg.generic`s becomes one generic.

The TOSA import spells one TFLite op as several element-wise steps, each with a whole tensor of its
own: QUANTIZE is mul -> cast to i32 -> add zero point -> narrow to i8 (an f32 and an i32 copy of the
input), an int16 ADD rescales both operands to i32 before adding them. Fused, the chain reads its
inputs and writes its output one element at a time: a float-input model then holds the f32 input
and the int8 copy, as TFLite Micro does, and seanet_add0 drops from 3840 B to 1920 B.

Run before generalization: the structured named ops (convolutions, pooling) are not generics yet,
so only element-wise chains fuse; a convolution's epilogue is fused by `fdt-fuse-epilogues`, which
keeps the convolution's structure for tiling.

A chain is not fused across its narrowest value when it ends in a reduction: a convolution's
requantization to int8 followed by MEAN's rescale back to int32 would otherwise become the
reduction's prologue, reading the convolution's int32 accumulators, a map four times the int8 one
TFLite Micro keeps (MobileNetV2 224's last 7x7x1280 layer: 250,880 B against 62,720 B). Kept apart,
the narrowing half becomes the convolution's epilogue and the widening half the reduction's prologue.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.layers import single_user
from ..analysis.linalg_util import defining_op, has_reduction, is_all_parallel, num_inputs
from ..ir import ir, run_pipeline, walk_ops
from ..passes import ModulePass

BARRIER = "util.optimization_barrier"  # a second use of a value: the fusion takes single-use producers only


@dataclass(frozen=True)
class FuseElementwiseChains(ModulePass):
    """Fuse producer/consumer chains of element-wise generics (upstream `linalg-fuse-elementwise-ops`)
    while the structured ops are still named, except across the narrowest value of a chain that ends
    in a reduction."""

    name = "fdt-fuse-elementwise-chains"
    summary = "fuse chains of element-wise linalg.generic ops (before named ops are generalized)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown(module.context):
            barriers = [_keep_apart(op) for op in _narrowest_before_a_reduction(module)]
        run_pipeline(module, "builtin.module(func.func(linalg-fuse-elementwise-ops,canonicalize,cse))")
        for barrier in barriers:
            barrier.erase()


def _elementwise(op) -> bool:
    return op is not None and op.name == "linalg.generic" and len(op.results) == 1 and is_all_parallel(op)


def _bits(value: ir.Value) -> int | None:
    t = value.type.element_type if isinstance(value.type, ir.ShapedType) else value.type
    return t.width if isinstance(t, (ir.IntegerType, ir.FloatType)) else None


def _widest_source(op) -> int:
    """The widest element type the element-wise chain ending at `op` reads (its tensor inputs, through
    single-use element-wise producers)."""
    widest = 0
    for value in list(op.operands)[:num_inputs(op)]:
        producer = defining_op(value)
        if _elementwise(producer) and single_user(producer) is not None:
            widest = max(widest, _widest_source(producer))
        elif isinstance(value.type, ir.ShapedType):
            widest = max(widest, _bits(value) or 0)
    return widest


def _ends_in_reduction(op) -> bool:
    """Whether the single-use element-wise chain from `op` feeds a reduction."""
    while True:
        user = single_user(op)
        if user is None or user.name not in ("linalg.generic", "linalg.reduce"):
            return False
        if user.name == "linalg.reduce" or has_reduction(user):
            return True
        if not _elementwise(user):
            return False
        op = user


def _narrowest_before_a_reduction(module: ir.Module) -> list:
    """Element-wise ops whose result is narrower than what their chain reads and than what their one
    (element-wise) user writes, on a chain that ends in a reduction."""
    found = []
    for op in walk_ops(module.operation):
        if not _elementwise(op):
            continue
        user = single_user(op)
        bits = _bits(op.results[0])
        if (user is not None and _elementwise(user) and bits is not None and (_bits(user.results[0]) or 0) > bits
                and _widest_source(op) > bits and _ends_in_reduction(user)):
            found.append(op)
    return found


def _keep_apart(op):
    """A second use of `op`'s result, so that the fusion leaves it materialized."""
    with ir.InsertionPoint.after(op):
        return ir.Operation.create(BARRIER, results=[op.results[0].type], operands=[op.results[0]])
