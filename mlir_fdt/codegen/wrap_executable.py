"""fdt-wrap-executable: the planned entry function becomes a `hal.executable.source`.

IREE does not accept a tiled tensor program at top level, so mlir-fdt hands it an already
bufferized executable: one export, one workgroup, one binding (the arena), with
`#iree_codegen.no_pipeline` so IREE only lowers it to LLVM. A host function `run` dispatches
it with the arena as an in-place tensor, so `iree.runtime` can execute the same program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from iree.compiler.dialects import arith, memref

from ..analysis.linalg_util import defining_op
from ..errors import FdtError
from ..memory.stream_input import name_row_callback
from ..ir import entry_function, ir, linalg, replace_module_body, run_pipeline, walk_ops
from ..passes import ModulePass
from .outline_loop_nests import OutlineLoopNests

SKELETON = """
#layout = #hal.pipeline.layout<bindings = [#hal.pipeline.binding<storage_buffer>]>
module {{
  hal.executable.source public @{name} {{
    hal.executable.export public @{name}_main ordinal(0) layout(#layout)
        count(%device: !hal.device) -> (index, index, index) {{
      %c1 = arith.constant 1 : index
      hal.return %c1, %c1, %c1 : index, index, index
    }}{reset_export}
    builtin.module {{
      func.func @{name}_main() attributes {{
          translation_info = #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline>}} {{
        %c0 = arith.constant 0 : index
        %arena = hal.interface.binding.subspan layout(#layout) binding(0) alignment(64) offset(%c0)
          flags(Indirect) : memref<{size}xi8>
        return
      }}
    }}
  }}
  func.func @run(%arena: tensor<{size}xi8>) -> tensor<{size}xi8> {{
    %0 = flow.dispatch @{name}::@{name}_main(%arena) : (tensor<{size}xi8>) -> %arena
    return %0 : tensor<{size}xi8>
  }}{reset_host}
}}
"""

# A program with persistent state (an SVDF's) gets a second export, ordinal 1: it sets every state back to its
# initial value (TFLite Micro's `Reset`: a new stream), and the host build a `reset` function dispatching it.
RESET_EXPORT = """
    hal.executable.export public @{name}_reset ordinal(1) layout(#layout)
        count(%device: !hal.device) -> (index, index, index) {{
      %c1 = arith.constant 1 : index
      hal.return %c1, %c1, %c1 : index, index, index
    }}"""
RESET_HOST = """
  func.func @reset(%arena: tensor<{size}xi8>) -> tensor<{size}xi8> {{
    %0 = flow.dispatch @{name}::@{name}_reset(%arena) : (tensor<{size}xi8>) -> %arena
    return %0 : tensor<{size}xi8>
  }}"""
RESET_EXPORT_ORDINAL = 1


def reset_export_of(executable: ir.Module) -> int | None:
    """RESET_EXPORT_ORDINAL if the wrapped program has the export resetting a persistent state, else None."""
    found = any(op.name == "hal.executable.export" and ir.StringAttr(op.attributes["sym_name"]).value.endswith("_reset")
                for op in walk_ops(executable.operation))
    return RESET_EXPORT_ORDINAL if found else None


def _reset_function(name: str, states: list[ir.Operation]) -> str:
    """A module: the state globals (as the program declares them) and `@<name>_reset`, which stores each one's
    initial value (a splat: the zero point) into every element."""
    lines = [str(g) for g in states]
    body = ["    %c0 = arith.constant 0 : index", "    %c1 = arith.constant 1 : index"]
    for k, g in enumerate(states):
        t = ir.MemRefType(ir.TypeAttr(g.attributes["type"]).value)
        value = ir.DenseElementsAttr(g.attributes["initial_value"]).get_splat_value()
        count = int(np.prod(t.shape))
        flat = f"memref<{count}x{t.element_type}>"
        symbol = ir.StringAttr(g.attributes["sym_name"]).value
        body += [f"    %g{k} = memref.get_global @{symbol} : {t}",
                 f"    %f{k} = memref.collapse_shape %g{k} [[{', '.join(map(str, range(t.rank)))}]] : {t} into {flat}",
                 f"    %v{k} = arith.constant {value}",
                 f"    %n{k} = arith.constant {count} : index",
                 f"    scf.for %i{k} = %c0 to %n{k} step %c1 {{",
                 f"      memref.store %v{k}, %f{k}[%i{k}] : {flat}",
                 "    }"]
    return ("module {\n" + "\n".join(lines) + f"\n  func.func @{name}_reset() attributes {{\n"
            "      translation_info = #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline>} {\n"
            + "\n".join(body) + "\n    return\n  }\n}")


def lower_to_loops(module: ir.Module) -> None:
    """memref.copy -> linalg.copy, then linalg -> scf loops (IREE's stream phase rejects linalg
    ops inside a hand-written executable, and no_pipeline would lower them to loops anyway)."""
    with module.context, ir.Location.unknown():
        for op in walk_ops(module.operation):
            if op.name == "memref.copy":
                with ir.InsertionPoint(op), op.location:
                    source, target = _as_words(op.operands[0]), _as_words(op.operands[1])
                    if source is None or target is None or source[2] != target[2]:
                        linalg.copy(op.operands[0], outs=[op.operands[1]])
                    else:
                        linalg.copy(_word_view(*source), outs=[_word_view(*target)])
                op.erase()
    run_pipeline(module, "builtin.module(func.func(convert-linalg-to-loops),canonicalize,cse)")


def _as_words(value: ir.Value) -> tuple[ir.Value, int, int] | None:
    """(arena, byte offset, bytes) when `value` is a contiguous, word-aligned stretch of a 1-d i8 arena (a
    planned buffer, or full rows of one: a streamed window's shift): it is then copied four bytes a load."""
    t = ir.MemRefType(value.type)
    element_bits = t.element_type.width if hasattr(t.element_type, "width") else 0
    if element_bits not in (8, 16, 32) or any(d < 0 for d in t.shape):
        return None
    layout = ir.StridedLayoutAttr(t.layout) if isinstance(t.layout, ir.StridedLayoutAttr) else None
    offset = 0
    op = defining_op(value)
    if layout is not None:
        expected = [int(np.prod(t.shape[k + 1:])) for k in range(len(t.shape))]  # row-major: contiguous
        if list(layout.strides) != expected or layout.offset < 0 or op is None or op.name != "memref.subview":
            return None
        offset = layout.offset
        op = defining_op(op.operands[0])
    if op is None or op.name != "memref.view" or len(op.operands) != 2:
        return None
    arena, shift = op.operands[0], defining_op(op.operands[1])
    if shift is None or shift.name != "arith.constant":
        return None
    start = ir.IntegerAttr(shift.attributes["value"]).value + offset * element_bits // 8
    size = int(np.prod(t.shape)) * element_bits // 8
    if start % 4 or size % 4 or size < 8:
        return None
    return arena, start, size


def _word_view(arena: ir.Value, start: int, size: int) -> ir.Value:
    index = ir.IndexType.get()
    offset = arith.ConstantOp(index, start).result
    return memref.ViewOp(ir.MemRefType.get([size // 4], ir.IntegerType.get_signless(32)), arena, offset, []).result


@dataclass(frozen=True)
class LowerToLoops(ModulePass):
    """Lower the planned program's linalg ops and copies to scf loops (the program IREE gets)."""

    name = "fdt-lower-to-loops"
    summary = "linalg ops and memref copies to scf loops, then canonicalize and cse"

    def apply(self, module: ir.Module) -> None:
        lower_to_loops(module)


def wrap_as_executable(module: ir.Module, name: str) -> ir.Module:
    """A new module: the executable plus the host `run` function."""
    with module.context, ir.Location.unknown():
        fn = entry_function(module)
        entry = fn.regions[0].blocks[0]
        if len(entry.arguments) != 1 or "fdt.arena_bytes" not in fn.attributes:
            raise FdtError("fdt-wrap-executable needs a planned function (run fdt-plan-memory first)")
        size = ir.MemRefType(entry.arguments[0].type).shape[0]
        name_row_callback(module, name)
        states = [op.operation for op in module.body.operations
                  if op.operation.name == "memref.global" and "constant" not in op.operation.attributes]
        wrapped = ir.Module.parse(SKELETON.format(
            name=name, size=size, reset_export=RESET_EXPORT.format(name=name) if states else "",
            reset_host=RESET_HOST.format(name=name, size=size) if states else ""))
        source = wrapped.body.operations[0]
        inner_module = [op for op in source.regions[0].blocks[0].operations if op.operation.name == "builtin.module"][0]
        inner_block = inner_module.regions[0].blocks[0]
        inner_fn = inner_block.operations[0]
        inner_entry = inner_fn.regions[0].blocks[0]
        ops = list(inner_entry.operations)
        subspan, inner_ret = ops[1], ops[2]
        entry.arguments[0].replace_all_uses_with(subspan.results[0])
        for op in list(entry.operations)[:-1]:
            op.operation.move_before(inner_ret)
        for op in list(module.body.operations):
            helper = op.operation.name == "func.func" and op.operation != fn.operation  # kernels/simd32.py
            if op.operation.name == "memref.global" or helper:
                op.operation.move_before(inner_fn)  # weights, and private helpers
        for key in ("fdt.arena_bytes", "fdt.io", "fdt.streamed_inputs"):
            if key in fn.attributes:
                inner_fn.attributes[key] = fn.attributes[key]
        if states:
            library = ir.Module.parse(_reset_function(name, states))  # held until its function has moved
            reset = [op.operation for op in library.body.operations if op.operation.name == "func.func"][0]
            reset.move_after(inner_fn)
        wrapped.operation.verify()
        return wrapped


@dataclass(frozen=True)
class WrapExecutable(ModulePass):
    """Wrap the planned function as a no_pipeline `hal.executable.source` with a host `run`."""

    name = "fdt-wrap-executable"
    summary = "wrap the planned program as an IREE hal.executable.source plus a host entry point"
    executable_name: str = "fdt_model"

    def run(self, module: ir.Module) -> ir.Module:
        with module.context:
            left = sorted({op.name for op in walk_ops(entry_function(module))
                           if op.name.startswith("linalg.") or op.name == "memref.copy"})
        if left:
            raise FdtError(f"fdt-wrap-executable needs loops ({', '.join(left)} left): run fdt-lower-to-loops first")
        OutlineLoopNests().apply(module)
        return wrap_as_executable(module, self.executable_name)

    def apply(self, module: ir.Module) -> None:
        replace_module_body(module, self.run(module))
