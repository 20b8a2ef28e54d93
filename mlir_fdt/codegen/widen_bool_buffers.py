"""fdt-widen-bool-buffers: boolean (i1) buffers in the arena stored a byte an element.

A boolean tensor that is not fused away (a model output of LESS or EQUAL; TFLite and ONNX store a bool in one
byte) is a `memref<...xi1>` view of the arena after bufferization, which LLVM's lowering cannot address (iree-compile
failed without naming anything). This pass, on the lowered loops, retypes every i1 view to i8 and turns each
access into a byte access: a load is followed by `arith.trunci` to i1, a store preceded by `arith.extui` (0 or 1,
the bytes TFLite Micro and onnxruntime hold). Any other operation on such a buffer is refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FdtError
from ..ir import arith, ir, walk_ops
from ..passes import ModulePass

# ops whose memref result is a view of their memref operand, with the same element type
_VIEWS = ("memref.view", "memref.subview", "memref.collapse_shape", "memref.expand_shape",
          "memref.reinterpret_cast", "memref.cast", "memref.alloca", "memref.alloc")


def _is_bool_memref(t: ir.Type) -> bool:
    return isinstance(t, ir.MemRefType) and ir.MemRefType(t).element_type == ir.IntegerType.get_signless(1)


def _as_bytes(t: ir.MemRefType) -> ir.MemRefType:
    return ir.MemRefType.get(t.shape, ir.IntegerType.get_signless(8), t.layout, t.memory_space)


@dataclass(frozen=True)
class WidenBoolBuffers(ModulePass):
    """Store boolean buffers as bytes (loads truncate, stores zero-extend)."""

    name = "fdt-widen-bool-buffers"
    summary = "store i1 buffers a byte an element"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            fn = module.operation
            i8 = ir.IntegerType.get_signless(8)
            for op in list(walk_ops(fn)):
                if op.name in _VIEWS and op.results and _is_bool_memref(op.results[0].type):
                    op.results[0].set_type(_as_bytes(ir.MemRefType(op.results[0].type)))
                elif op.name == "memref.load" and ir.MemRefType(op.operands[0].type).element_type == i8 and \
                        op.results[0].type == ir.IntegerType.get_signless(1):
                    loaded = op.results[0]
                    with ir.InsertionPoint.after(op), op.location:
                        narrowed = arith.TruncIOp(loaded.type, loaded)
                    loaded.set_type(i8)
                    loaded.replace_all_uses_except(narrowed.result, narrowed.operation)
                elif op.name == "memref.store" and ir.MemRefType(op.operands[1].type).element_type == i8 and \
                        op.operands[0].type == ir.IntegerType.get_signless(1):
                    with ir.InsertionPoint(op), op.location:
                        op.operands[0] = arith.ExtUIOp(i8, op.operands[0]).result
            for op in walk_ops(fn):
                if any(_is_bool_memref(v.type) for v in [*op.operands, *op.results]):
                    raise FdtError(f"{op.name} at {op.location} reads or writes a boolean buffer, which mlir-fdt "
                                   "stores a byte an element only through loads and stores")
