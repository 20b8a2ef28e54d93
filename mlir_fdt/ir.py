"""The one place that imports the MLIR Python bindings shipped in IREE's compiler package.

Every other module imports MLIR names from here, so a change of binding location
(e.g. upstream `mlir` instead of `iree.compiler`) is a one-file change.
"""

import os

from iree.compiler import ir, passmanager  # noqa: F401
from iree.compiler.dialects import (  # noqa: F401
    arith,
    func,
    linalg,
    math,
    memref,
    scf,
    tensor,
    transform,
    vector,
)
from iree.compiler.dialects.transform import interpreter as transform_interpreter  # noqa: F401


def _print_without_verifying() -> None:
    """Printing an op verifies it first, unless told the op is verified. The transform dialect's
    `fuse_into_containing_op` prints the producer and the loop nest into a remark for every producer it
    fuses (kept only if the fusion fails), and the verification walks the whole function: on MobileNetV2
    224 epilogue fusion took 0.65 s, 0.27 s without it (about a fifth of scoring a plan). Error
    diagnostics print ops in generic form, which needs no verification, and every program we print
    ourselves has been verified by the pass that made it. The flag is process-wide (IREE's global
    command-line options, which the bindings' `OpPrintingFlags` read); without that entry point
    (another IREE) nothing changes but the time. IREE accepts those options once a process: a program that
    sets them itself and imports mlir_fdt sets `MLIR_FDT_NO_IREE_OPTIONS=1` (slower search, same output)."""
    if os.environ.get("MLIR_FDT_NO_IREE_OPTIONS"):
        return
    try:
        from iree.compiler.api import ctypes_dl
        ctypes_dl._initializeGlobalCL("mlir-fdt", "--mlir-print-assume-verified")
    except (ImportError, AttributeError, OSError, RuntimeError, ValueError):
        pass


_print_without_verifying()

Context = ir.Context
Module = ir.Module
Location = ir.Location
InsertionPoint = ir.InsertionPoint


# Loaded when a context is made: the dialects whose ops the compiler creates from Python (an op of a dialect
# not loaded could not be built). Every other dialect IREE registers (HAL, LLVM, flow, ...) loads when a
# parsed program or a pass needs it. Loading all ~80 up front made every AsmState (op printing, value
# names) walk them all: scoring a plan on MobileNetV2 224 took 15 % longer.
PRELOADED_DIALECTS = ["builtin", "func", "arith", "math", "affine", "linalg", "tensor", "scf", "memref",
                      "bufferization", "vector", "transform", "tosa"]


def new_context() -> ir.Context:
    """A context with the dialects the compiler builds ops of loaded (PRELOADED_DIALECTS); every other
    dialect IREE registers loads on first use."""
    ctx = ir.Context(load_on_create_dialects=PRELOADED_DIALECTS)
    ctx.allow_unregistered_dialects = False
    return ctx


def run_pipeline(module: ir.Module, pipeline: str) -> None:
    """Run a textual pass pipeline (`builtin.module(...)`) on `module` in place."""
    pm = passmanager.PassManager.parse(pipeline, context=module.context)
    pm.run(module.operation)


def call_new_function(module: ir.Module, text: str, operands: list[ir.Value]) -> ir.Operation:
    """Parse `text` (a module holding one private `func.func`, and globals it uses), move them into `module` and call it
    with `operands` at the current insertion point and location; the `func.call` (the importers that lower an
    operator themselves write it as a function, then inline the calls)."""
    library = ir.Module.parse(text)  # held until the function has moved out of it (else freed under it)
    function = None
    for op in list(library.body.operations):  # the function, and the globals it uses (an SVDF's state)
        op.operation.move_before(module.body.operations[0])
        if op.operation.name == "func.func":
            function = op.operation
    signature = ir.FunctionType(ir.TypeAttr(function.attributes["function_type"]).value)
    name = ir.StringAttr(function.attributes["sym_name"]).value
    return ir.Operation.create("func.call", results=list(signature.results), operands=operands,
                               attributes={"callee": ir.FlatSymbolRefAttr.get(name)})


def name_inlined_results(module: ir.Module) -> None:
    """After the calls of `call_new_function` are inlined, each inlined op is located at `callsite(its line at the
    call)`. The ops whose results leave the inlined body (used by an op located elsewhere) take the call's own
    location: the name of the TFLite tensor the operator computes (`--check-intermediates` compares it); the body's
    inner values stay unnamed (an SVDF's int8 feature column has its output's type and shape)."""
    def caller(op: ir.Operation) -> str | None:
        location = op.location
        return str(location.caller) if str(location).startswith("loc(callsite(") else None
    for op in walk_ops(module.operation):
        at = caller(op)
        if at is not None and any(caller(use.owner.operation) != at for result in op.results for use in result.uses):
            op.location = op.location.caller


def copy_of(value: ir.Value) -> ir.Operation:
    """A `linalg.generic` copying tensor `value` into a fresh one (at the current insertion point)."""
    t = ir.RankedTensorType(value.type)
    identity = ir.AffineMap.get_identity(t.rank)
    empty = tensor.EmptyOp(t.shape, t.element_type).result
    op = linalg.GenericOp([t], [value], [empty], ir.ArrayAttr.get([ir.AffineMapAttr.get(identity)] * 2),
                          ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * t.rank))
    block = op.regions[0].blocks.append(t.element_type, t.element_type)
    with ir.InsertionPoint(block):
        linalg.YieldOp([block.arguments[0]])
    return op.operation


def location_name(op: ir.Operation) -> str | None:
    """The name of the op's NameLoc (`loc("tensor/name"(...))`: the converter's debug location, the TFLite
    tensor the op computes), else None."""
    return getattr(op.location, "name_str", None)


def walk_ops(op: ir.Operation):
    """Pre-order list of every operation nested in `op` (not including `op`). (MLIR's own walk: twice as fast
    as recursing through regions and blocks in Python.)"""
    found: list = []

    def visit(child: ir.Operation):
        found.append(child)
        return ir.WalkResult.ADVANCE
    op.operation.walk(visit, ir.WalkOrder.PRE_ORDER)
    return found[1:]


def walk_block(block: ir.Block) -> list:
    """Pre-order list of the operations of `block` and of every operation nested in them."""
    result = []
    for child in block.operations:
        child = child.operation
        result.append(child)
        result.extend(walk_ops(child))
    return result


def persistent_state_globals(module: ir.Module) -> list[str]:
    """The mutable `memref.global`s of `module`: state a layer keeps from one run to the next (an SVDF's)."""
    return [ir.StringAttr(op.attributes["sym_name"]).value for op in walk_ops(module.operation)
            if op.name == "memref.global" and "constant" not in op.attributes]


def forward_shared_if_results(op: ir.Operation) -> None:
    """Each result of an `scf.if` nested in `op` that both branches yield as the same value, or as views of one
    buffer at one constant offset one of which is defined before it, is replaced by that value: a streamed row both
    branches leave in one arena slot; the kernel passes, which prove their rewrites on static views, then see it."""
    for branch in walk_ops(op):
        if branch.name != "scf.if" or len(branch.regions[1].blocks) == 0:
            continue
        then_yield = list(branch.regions[0].blocks[0].operations)[-1]
        else_yield = list(branch.regions[1].blocks[0].operations)[-1]
        for k, result in enumerate(branch.results):
            value, other = then_yield.operands[k], else_yield.operands[k]
            if value == other:
                result.replace_all_uses_with(value)
                continue
            outside = [v for v in (value, other) if not isinstance(v.owner, ir.Block) and
                       v.owner.operation.block == branch.block]
            if outside and _same_static_view(value, other):
                result.replace_all_uses_with(outside[0])


def _same_static_view(a: ir.Value, b: ir.Value) -> bool:
    """Two `memref.view`s of one buffer at the same constant offset, of one type."""
    views = [v.owner.operation for v in (a, b) if not isinstance(v.owner, ir.Block)]
    if len(views) != 2 or any(v.name != "memref.view" or len(v.operands) != 2 for v in views) or a.type != b.type:
        return False
    if views[0].operands[0] != views[1].operands[0]:
        return False
    offsets = [v.operands[1].owner for v in views]
    return all(not isinstance(o, ir.Block) and o.name == "arith.constant" for o in offsets) and \
        str(offsets[0].attributes["value"]) == str(offsets[1].attributes["value"])


def strip_attributes(module: ir.Module, names: tuple[str, ...]) -> None:
    """Remove the attributes `names` (a pass's temporary marks) from every op of `module`."""
    for op in walk_ops(module.operation):
        for n in names:
            if n in op.attributes:
                del op.attributes[n]


def block_encloses(outer: ir.Block, inner: ir.Block) -> bool:
    """Whether `inner` is `outer` or nested in an op of `outer` (within one function)."""
    b = inner
    while b is not None:
        if b == outer:
            return True
        parent = b.owner.operation if b.owner is not None else None
        if parent is None or parent.name == "func.func":
            return b == outer
        b = parent.block
    return False


def entry_function(module: ir.Module):
    """The module's single public func.func (the model entry point)."""
    funcs = [op for op in module.body.operations if op.operation.name == "func.func"]
    public = [f for f in funcs if "sym_visibility" not in f.attributes
              or ir.StringAttr(f.attributes["sym_visibility"]).value == "public"]
    if len(public) != 1:
        from .errors import FdtError
        raise FdtError(f"expected exactly one public function in the module, found {len(public)}")
    return public[0]


def copy_module(module: ir.Module) -> ir.Module:
    """An independent copy of `module` in its context (bytecode: locations kept)."""
    import io
    buf = io.BytesIO()
    module.operation.write_bytecode(buf)
    return ir.Module.parse(buf.getvalue(), context=module.context)


def replace_module_body(module: ir.Module, other: ir.Module) -> None:
    """Make `module` hold `other`'s top-level ops (passes that rebuild a module in place)."""
    body = module.body
    for op in list(body.operations):
        op.operation.erase()
    with module.context:
        for op in list(other.body.operations):
            ir.InsertionPoint(body).insert(op.operation.detach_from_parent())
