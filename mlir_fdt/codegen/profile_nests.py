"""`--profile`: a copy of the lowered program that reads the Cortex-M SysTick counter around each of its
top-level loop nests (one layer each, its epilogue fused; a streamed path is one nest), so the firmware
reports the instructions of every layer on the device.

The counter values are stored in a table of 4-byte words after the model's arena (the profiled copy's
arena is `profile_offset + 4 * (nests + 1)` bytes); the runner prints one `FDT_PROFILE nest=i ticks=t`
line per nest from it (`firmware/runner/main.c`). SysTick counts down, 2^24 ticks a wrap: a nest's ticks
are (before - after) mod 2^24, exact for a nest shorter than one wrap (671 M instructions on
mps2-an386). The reads are volatile loads of SYST_CVR (0xE000E018): only the device copy has them; the
library `mlir-fdt compile` writes is not instrumented.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.layers import NEST_LAYERS_ATTR, top_level_nests
from ..ir import arith, entry_function, func, ir, memref, walk_ops

SYSTICK_HELPER = """
func.func private @fdt_systick() -> i32 {
  %address = llvm.mlir.constant(-536813544 : i32) : i32
  %pointer = llvm.inttoptr %address : i32 to !llvm.ptr
  %value = llvm.load volatile %pointer : !llvm.ptr -> i32
  %mask = arith.constant 16777215 : i32
  %ticks = arith.andi %value, %mask : i32
  return %ticks : i32
}
"""


@dataclass(frozen=True)
class ProfileLayout:
    nests: int            # top-level loop nests profiled
    offset: int           # byte offset of the counter table in the arena
    arena_bytes: int      # the profiled copy's arena: the model's, then the table
    kinds: tuple          # what each nest computes (describe_nest)
    layers: tuple         # the layers each nest computes (name_nests), "" when unknown


def _nest_layers(nest) -> str:
    return ir.StringAttr(nest.attributes[NEST_LAYERS_ATTR]).value if NEST_LAYERS_ATTR in nest.attributes else ""


def describe_nest(nest) -> str:
    """What a nest's kernels are: SIMD32 dot products, a padded window, or plain loops."""
    ops = walk_ops(nest)
    if any(o.name == "func.call" for o in ops):
        return "SIMD32 dot products"
    if any(o.name == "scf.if" for o in ops):
        return "padded window"
    return "loops"


def instrument(module: ir.Module) -> ProfileLayout:
    """Add the counter reads and the table to `module` (a lowered program: one entry function taking the
    arena); return where the table is."""
    with module.context, ir.Location.unknown():
        fn = entry_function(module)
        block = fn.regions[0].blocks[0]
        arena = block.arguments[0]
        arena_type = ir.MemRefType(arena.type)
        nests = top_level_nests(fn)
        offset = (arena_type.shape[0] + 3) // 4 * 4
        total = offset + 4 * (len(nests) + 1)
        new_type = ir.MemRefType.get([total], arena_type.element_type)
        arena.set_type(new_type)
        fn_type = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
        fn.attributes["function_type"] = ir.TypeAttr.get(
            ir.FunctionType.get([new_type, *fn_type.inputs[1:]], fn_type.results))
        helper = ir.Module.parse(SYSTICK_HELPER, module.context)
        for op in list(helper.body.operations):
            op.operation.move_before(module.body.operations[0])
        index, i32 = ir.IndexType.get(), ir.IntegerType.get_signless(32)
        with ir.InsertionPoint(nests[0]) if nests else ir.InsertionPoint.at_block_begin(block):
            table = memref.ViewOp(ir.MemRefType.get([len(nests) + 1], i32), arena,
                                  arith.ConstantOp(index, offset).result, []).result

        def record(k: int) -> None:
            ticks = func.CallOp([i32], ir.FlatSymbolRefAttr.get("fdt_systick"), []).result
            memref.StoreOp(ticks, table, [arith.ConstantOp(index, k).result])

        for k, nest in enumerate(nests):
            with ir.InsertionPoint(nest):
                record(k)
        if nests:  # after the last nest: before the op that follows it
            last = nests[-1]
            with ir.InsertionPoint(last.block.operations[_position(last) + 1]):
                record(len(nests))
        return ProfileLayout(len(nests), offset, total, tuple(describe_nest(n) for n in nests),
                             tuple(_nest_layers(n) for n in nests))


def _position(op) -> int:
    return next(i for i, o in enumerate(op.block.operations) if o.operation == op)


def nest_instructions(ticks: list[int], instructions_per_tick) -> list[int]:
    """Instructions of each nest from its ticks (the target's instructions per SysTick tick)."""
    return [int(t * instructions_per_tick) for t in ticks]
