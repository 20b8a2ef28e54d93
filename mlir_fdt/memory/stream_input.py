"""fdt-stream-input: a model input the program reads one row at a time arrives one row at a time.

A streamed path whose first layers read the model input takes each input row into their window
(`transforms/stream_rows.py`): a copy, or the element-wise op between the input and those layers (the
channels-last transpose of an NCHW input, a scaling) applied to the row. When the entry function carries
`fdt.stream_inputs` (`mlir-fdt compile --stream-input`), each such read gets its row from the application's row
callback instead, and the input no longer lives in the arena: the whole input is never in RAM. Row `r` of input
`i` is the input's elements whose index along its row axis is `r`, in the input's own order (`bytes` bytes): one
run for an NHWC input, one run a channel plane for an NCHW one (`segments`). A copy's row is written straight
into the window; an op's row into a row buffer the op then reads.

The callback is an external C function the linker resolves (`hal.import.static`), named after the library
(`fdt-wrap-executable` renames it `<library>_read_input_row`):

    void <library>_read_input_row(int32_t input, int32_t row, int32_t bytes, void *dst);

The program asks for each row once, in order, when its first layer needs it. The runner
(`firmware/runner/main.c`) reads it from input<i>.bin; `cmake/MlirFdtHeaders.cmake` declares it for a firmware.

An input read any other way (whole, by a layer outside a streamed path) stays in the arena (`mlir-fdt compile
--stream-input` then says so, naming the plan). Runs after `fdt-bufferize`, before the memory
plan, which leaves the streamed inputs out and records them as `fdt.streamed_inputs` = [[index, bytes a
row, rows, segments]].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..analysis.linalg_util import num_inputs
from ..ir import arith, entry_function, func, ir, memref
from ..analysis.index_eval import NotStatic, iterations
from ..analysis.index_ranges import value_range
from .liveness import RESHAPE_OPS, VIEW_OPS, aliases, contiguous_run, element_bytes
from .overlap import MAX_ITERATIONS, enclosing_guards, guards_taken
from ..passes import ModulePass

STREAM_ATTR = "fdt.stream_inputs"      # on the entry function: deliver its inputs row by row where it can
STREAMED_ATTR = "fdt.streamed_inputs"  # written by the pass: [[input index, bytes a row, rows, segments]]
ROW_CALLBACK = "fdt_read_input_row"    # the callback's name until fdt-wrap-executable gives it the library's
DYNAMIC = -9223372036854775808


@dataclass(frozen=True)
class StreamedInput:
    """Input `index` delivered `rows` times `row_bytes` bytes; a row is `segments` contiguous runs of the input
    (1 for an HWC input; C for an NCHW one: row r of each channel plane, plane after plane)."""
    index: int
    row_bytes: int
    rows: int
    segments: int = 1

    def to_json(self) -> list[int]:
        return [self.index, self.row_bytes, self.rows, self.segments]


def _leaf_uses(value: ir.Value) -> list[tuple[ir.Operation, int]]:
    """(op, operand number) of every use of `value` and of the views derived from it, the views excepted."""
    return [(use.owner.operation, use.operand_number) for v in aliases(value) for use in v.uses
            if not (use.owner.operation.name in VIEW_OPS and use.operand_number == 0)]


def _is_reshape_of_input(value: ir.Value) -> bool:
    """`value` is the input itself or a reshape of it (the same bytes in the same order)."""
    while not isinstance(value.owner, ir.Block):
        if value.owner.operation.name not in RESHAPE_OPS:
            return False
        value = value.owner.operation.operands[0]
    return True


@dataclass(frozen=True)
class RowRead:
    """One read of a model input's row: `op` (a `memref.copy`, or an element-wise generic computing the row of the
    map the path reads: a transpose, a scaling) reads operand `operand`, a subview selecting index `row` along
    axis `axis` of a reshape of the input shaped `shape`, every other axis whole."""
    op: ir.Operation
    operand: int
    row: ir.Value | int
    axis: int
    shape: tuple[int, ...]

    @property
    def segments(self) -> int:
        """Contiguous runs the row is made of in the input (for an NCHW input's row: one per channel)."""
        return math.prod(self.shape[:self.axis])


def _row_of(view: ir.Value) -> tuple[ir.Value | int, int, tuple[int, ...]] | None:
    """(row, axis, source shape) when `view` is a `memref.subview` of a reshape of the input selecting index `row`
    of one axis, every other axis whole; None otherwise."""
    op = view.owner.operation if not isinstance(view.owner, ir.Block) else None
    if op is None or op.name != "memref.subview" or not _is_reshape_of_input(op.operands[0]):
        return None
    shape = tuple(ir.MemRefType(op.operands[0].type).shape)
    offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
    sizes = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
    strides = list(ir.DenseI64ArrayAttr(op.attributes["static_strides"]))
    axes = [k for k, (size, whole) in enumerate(zip(sizes, shape)) if size != whole or offsets[k] != 0]
    if len(shape) < 2 or len(axes) != 1 or sizes[axes[0]] != 1 or any(x != 1 for x in strides):
        return None
    axis = axes[0]
    if offsets[axis] != DYNAMIC:
        return offsets[axis], axis, shape
    dynamic = list(op.operands)[1:]
    return (dynamic[0], axis, shape) if len(dynamic) == 1 else None


def row_reads(arg: ir.Value) -> list[RowRead] | None:
    """Every read of input `arg` when each reads one whole row of it (`_row_of`, all along one axis): a
    `memref.copy` into a contiguous buffer (a streamed path's window), or an element-wise generic computing the row
    of the map the path reads (`transforms/stream_rows._prologue`); None when anything reads it otherwise."""
    reads = []
    for user, operand in _leaf_uses(arg):
        found = _row_of(user.operands[operand])
        if found is None:
            return None
        if user.name == "memref.copy":
            if operand != 0 or contiguous_run(user.operands[1]) is None:
                return None
        elif user.name != "linalg.generic" or operand >= num_inputs(user):
            return None
        reads.append(RowRead(user, operand, *found))
    if not reads or len({(r.axis, r.shape) for r in reads}) != 1:
        return None
    return reads if _asks_each_row_once_in_order(reads) else None


def _asks_each_row_once_in_order(reads: list[RowRead]) -> bool:
    """Whether the program, run, reads rows 0, 1, ..., rows-1 of the input, each once, in that order: every read
    sits in one top-level loop (under `scf.if`s only), and enumerating that loop's iterations, the reads its guards
    let run read exactly that sequence (a streamed path's input rows; not a gather's index row a loop reads again)."""
    loop = None
    for read in reads:
        op, outer = read.op, None
        while op.parent is not None and op.parent.operation.name != "func.func":
            op = op.parent.operation
            if op.name == "scf.for":
                if outer is not None:
                    return False  # inside a nested loop: read once an inner iteration
                outer = op
            elif op.name != "scf.if":
                return False
        if outer is None or (loop is not None and loop != outer):
            return False
        loop = outer
    iv = loop.regions[0].blocks[0].arguments[0]
    guards = [enclosing_guards(read.op, loop) for read in reads]
    asked = []
    try:
        for count, env in enumerate(iterations([loop])):
            if count >= MAX_ITERATIONS:
                return False
            env, cache = {iv: env[iv]}, {}
            for read, guard in zip(reads, guards):
                if not guards_taken(guard, env, cache):
                    continue
                row = read.row if isinstance(read.row, int) else value_range(read.row, env, cache)
                if not isinstance(row, int) and row[0] != row[1]:
                    return False  # a guard or row not decided by the step
                asked.append(row if isinstance(row, int) else row[0])
    except NotStatic:
        return False
    return asked == list(range(reads[0].shape[reads[0].axis]))


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


def _call_for(read: RowRead, index: int, row_bytes: int) -> None:
    """`read` served by the callback: a copy into a window becomes the callback writing the row there; a generic
    reading the row reads it from a row buffer the callback fills just before."""
    i32, idx = ir.IntegerType.get_signless(32), ir.IndexType.get()
    op = read.op
    source = op.operands[read.operand]
    with ir.InsertionPoint(op), op.location:
        if op.name == "memref.copy":
            target = op.operands[1]
        else:
            source_type = ir.MemRefType(source.type)
            target = memref.AllocOp(ir.MemRefType.get(source_type.shape, source_type.element_type), [], []).result
        base = memref.ExtractAlignedPointerAsIndexOp(target).result
        metadata = memref.ExtractStridedMetadataOp(target)
        scale = arith.ConstantOp(idx, element_bytes(ir.MemRefType(target.type).element_type)).result
        address = arith.AddIOp(base, arith.MulIOp(metadata.offset, scale).result).result
        pointer = ir.Operation.create("llvm.inttoptr", results=[ir.Type.parse("!llvm.ptr")],
                                      operands=[arith.IndexCastOp(i32, address).result]).result
        row_value = read.row if isinstance(read.row, ir.Value) else arith.ConstantOp(idx, read.row).result
        func.CallOp([], ir.FlatSymbolRefAttr.get(ROW_CALLBACK),
                    [arith.ConstantOp(i32, index).result, arith.IndexCastOp(i32, row_value).result,
                     arith.ConstantOp(i32, row_bytes).result, pointer])
    if op.name == "memref.copy":
        op.erase()
    else:
        op.operands[read.operand] = target
    while not isinstance(source.owner, ir.Block) and source.owner.operation.name in VIEW_OPS \
            and not list(source.uses):
        view = source.owner.operation
        source = view.operands[0]
        view.erase()


def stream_inputs(module: ir.Module) -> list[StreamedInput]:
    """Rewrite the row copies of every input read only by them (the entry function asks for it with
    STREAM_ATTR); record and return the streamed inputs."""
    with module.context, ir.Location.unknown():
        fn = entry_function(module)
        if STREAM_ATTR not in fn.attributes:
            return []
        streamed = []
        for index, arg in enumerate(fn.regions[0].blocks[0].arguments):
            reads = row_reads(arg)
            if reads is None:
                continue
            first = reads[0]
            row_bytes = math.prod(first.shape) // first.shape[first.axis] * \
                element_bytes(ir.MemRefType(arg.type).element_type)
            _declare_callback(module)
            for read in reads:
                _call_for(read, index, row_bytes)
            streamed.append(StreamedInput(index, row_bytes, first.shape[first.axis], first.segments))
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
