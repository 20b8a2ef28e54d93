"""fdt-stream-input: a model input the program reads one row at a time arrives one row at a time.

A streamed path whose first layer reads the model input copies each input row into the layer's
window (`transforms/stream_rows.py`). When the entry function carries `fdt.stream_inputs` (`mlir-fdt compile
--stream-input`), each such copy becomes a call of the application's row callback instead, and the input no
longer lives in the arena: the application delivers row `r` of input `i` (`bytes` bytes, the map's columns
and channels) straight into the window when the program asks for it, so the whole input is never in RAM.

The callback is an external C function the linker resolves (`hal.import.static`), named after the library
(`fdt-wrap-executable` renames it `<library>_read_input_row`):

    void <library>_read_input_row(int32_t input, int32_t row, int32_t bytes, void *dst);

The program asks for each row once, in order, when its first layer needs it. The runner
(`firmware/runner/main.c`) reads it from input<i>.bin; `cmake/MlirFdtHeaders.cmake` declares it for a firmware.

An input read any other way (whole, by a layer outside a streamed path) stays in the arena (`mlir-fdt compile
--stream-input` then says so, naming the plan). Runs after `fdt-bufferize`, before the memory
plan, which leaves the streamed inputs out and records them as `fdt.streamed_inputs` = [[index, bytes a
row, rows]].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..ir import arith, entry_function, func, ir, memref
from .liveness import RESHAPE_OPS, VIEW_OPS, contiguous_run, element_bytes
from ..passes import ModulePass

STREAM_ATTR = "fdt.stream_inputs"      # on the entry function: deliver its inputs row by row where it can
STREAMED_ATTR = "fdt.streamed_inputs"  # written by the pass: [[input index, bytes a row, rows]]
ROW_CALLBACK = "fdt_read_input_row"    # the callback's name until fdt-wrap-executable gives it the library's
DYNAMIC = -9223372036854775808


@dataclass(frozen=True)
class StreamedInput:
    index: int
    row_bytes: int
    rows: int

    def to_json(self) -> list[int]:
        return [self.index, self.row_bytes, self.rows]


def _leaf_uses(value: ir.Value) -> list[tuple[ir.Operation, int]]:
    """(op, operand number) of every use of `value` and of the views derived from it, the views excepted."""
    out, work = [], [value]
    while work:
        v = work.pop()
        for use in v.uses:
            user = use.owner.operation
            if user.name in VIEW_OPS and use.operand_number == 0:
                work.extend(user.results)
            else:
                out.append((user, use.operand_number))
    return out


def _is_reshape_of_input(value: ir.Value) -> bool:
    """`value` is the input itself or a reshape of it (the same bytes in the same order)."""
    while not isinstance(value.owner, ir.Block):
        if value.owner.operation.name not in RESHAPE_OPS:
            return False
        value = value.owner.operation.operands[0]
    return True


def _row_of(view: ir.Value) -> ir.Value | int | None:
    """The row `view` (a `memref.subview` of an HxW[xC] reshape of the input) selects whole, as an index
    value or a static int; None when it is anything but one whole row."""
    op = view.owner.operation if not isinstance(view.owner, ir.Block) else None
    if op is None or op.name != "memref.subview":
        return None
    source = ir.MemRefType(op.operands[0].type)
    if source.rank < 2 or not _is_reshape_of_input(op.operands[0]):
        return None
    offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
    sizes = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
    strides = list(ir.DenseI64ArrayAttr(op.attributes["static_strides"]))
    if sizes != [1, *source.shape[1:]] or any(offsets[1:]) or any(s != 1 for s in strides):
        return None
    if offsets[0] != DYNAMIC:
        return offsets[0]
    dynamic = list(op.operands)[1:]
    return dynamic[0] if len(dynamic) == 1 else None


def row_copies(arg: ir.Value) -> list[tuple[ir.Operation, ir.Value | int]] | None:
    """Every read of input `arg` as (copy, row) when each is a `memref.copy` of one whole input row into a
    contiguous buffer (a streamed path's window); None when anything reads it otherwise."""
    copies = []
    for user, operand in _leaf_uses(arg):
        if user.name != "memref.copy" or operand != 0:
            return None
        row = _row_of(user.operands[0])
        if row is None or contiguous_run(user.operands[1]) is None:
            return None
        copies.append((user, row))
    return copies or None


def _declare_callback(module: ir.Module) -> None:
    """Declare the row callback once: an external function the linker resolves (`hal.import.static`: IREE
    calls it directly, its arguments in registers; a dynamic import would pack them into an `alloca` at each
    call, which inside the streamed loop grew the stack by 16 B a row)."""
    if _callback_declaration(module) is not None:
        return
    i32 = ir.IntegerType.get_signless(32)
    with ir.InsertionPoint.at_block_begin(module.body):
        decl = func.FuncOp(ROW_CALLBACK, ir.FunctionType.get([i32, i32, i32, ir.Type.parse("!llvm.ptr")], []))
        decl.attributes["sym_visibility"] = ir.StringAttr.get("private")
        decl.attributes["hal.import.static"] = ir.UnitAttr.get()


def _call_for(copy: ir.Operation, index: int, row: ir.Value | int, row_bytes: int) -> None:
    """`copy` (input row -> window) replaced by the callback writing the row at the copy's target."""
    i32, idx = ir.IntegerType.get_signless(32), ir.IndexType.get()
    target = copy.operands[1]
    with ir.InsertionPoint(copy), copy.location:
        base = memref.ExtractAlignedPointerAsIndexOp(target).result
        metadata = memref.ExtractStridedMetadataOp(target)
        scale = arith.ConstantOp(idx, element_bytes(ir.MemRefType(target.type).element_type)).result
        address = arith.AddIOp(base, arith.MulIOp(metadata.offset, scale).result).result
        pointer = ir.Operation.create("llvm.inttoptr", results=[ir.Type.parse("!llvm.ptr")],
                                      operands=[arith.IndexCastOp(i32, address).result]).result
        row_value = row if isinstance(row, ir.Value) else arith.ConstantOp(idx, row).result
        func.CallOp([], ir.FlatSymbolRefAttr.get(ROW_CALLBACK),
                    [arith.ConstantOp(i32, index).result, arith.IndexCastOp(i32, row_value).result,
                     arith.ConstantOp(i32, row_bytes).result, pointer])
    source = copy.operands[0]
    copy.erase()
    while not isinstance(source.owner, ir.Block) and source.owner.operation.name in VIEW_OPS \
            and not list(source.uses):
        op = source.owner.operation
        source = op.operands[0]
        op.erase()


def stream_inputs(module: ir.Module) -> list[StreamedInput]:
    """Rewrite the row copies of every input read only by them (the entry function asks for it with
    STREAM_ATTR); record and return the streamed inputs."""
    with module.context, ir.Location.unknown():
        fn = entry_function(module)
        if STREAM_ATTR not in fn.attributes:
            return []
        streamed = []
        for index, arg in enumerate(fn.regions[0].blocks[0].arguments):
            copies = row_copies(arg)
            if copies is None:
                continue
            row_view = copies[0][0].operands[0]  # a subview [1, W, C] of an [H, W, C] reshape of the input
            row_type = ir.MemRefType(row_view.type)
            row_bytes = math.prod(row_type.shape) * element_bytes(row_type.element_type)
            height = ir.MemRefType(row_view.owner.operation.operands[0].type).shape[0]
            _declare_callback(module)
            for copy, row in copies:
                _call_for(copy, index, row, row_bytes)
            streamed.append(StreamedInput(index, row_bytes, height))
        if streamed:
            i64 = ir.IntegerType.get_signless(64)
            fn.attributes[STREAMED_ATTR] = ir.ArrayAttr.get([
                ir.ArrayAttr.get([ir.IntegerAttr.get(i64, v) for v in s.to_json()]) for s in streamed])
        return streamed


def streamed_inputs_of(fn) -> list[StreamedInput]:
    """The inputs `fn` receives row by row (STREAMED_ATTR), none when it has no such attribute."""
    if STREAMED_ATTR not in fn.attributes:
        return []
    return [StreamedInput(*[ir.IntegerAttr(v).value for v in ir.ArrayAttr(entry)])
            for entry in ir.ArrayAttr(fn.attributes[STREAMED_ATTR])]


@dataclass(frozen=True)
class StreamInput(ModulePass):
    """Turn the row copies of a model input into calls of the application's row callback (when the entry
    function asks for it, `fdt.stream_inputs`)."""

    name = "fdt-stream-input"
    summary = "deliver a model input read row by row through the application's row callback (an IREE import)"

    def apply(self, module: ir.Module) -> None:
        stream_inputs(module)


def row_callback_name(library: str) -> str:
    """The C name of the row callback of library `library`."""
    return f"{library}_read_input_row"


def name_row_callback(module: ir.Module, library: str) -> None:
    """Give the row callback (if the program calls one) its library's name: two models in one firmware each
    have their own."""
    declaration = _callback_declaration(module)
    if declaration is not None:
        ir.SymbolTable.replace_all_symbol_uses(ROW_CALLBACK, row_callback_name(library), module.operation)
        declaration.attributes["sym_name"] = ir.StringAttr.get(row_callback_name(library))


def _callback_declaration(module: ir.Module) -> ir.Operation | None:
    for op in module.body.operations:
        op = op.operation
        if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == ROW_CALLBACK:
            return op
    return None
