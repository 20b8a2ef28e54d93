"""fdt-peel-padded-windows: a window that lies inside its input is read without bounds checks.

`fdt-fold-pad-into-consumer` reads a padded input through clamped indices and a select of the
padding value, for every MAC of every output element: index arithmetic, two compares, a clamp and
a select around each load (most of the 15-17 instructions a MAC of a padded convolution). Only the
few output elements at the border need them. This pass gives each such reduction a run-time test
per output element — is the whole window inside the input? — and, when it is, runs a copy of the
reduction that reads a `memref.subview` of the input (the window) through a plain indexing map: no
compare, no clamp, no select. The interior copy is an ordinary dot product, so
`fdt-dot-product-kernels` can turn it into SIMD32 loops. At the border, when the padding contributes
nothing to an int8 dot product (its value is the zero point the product subtracts, as TFLite pads
convolutions), the same copy runs on the window clipped to the input: each tested axis's loop runs
over the taps inside the input only. Otherwise the original, bounds checks and all, handles the
border.

The window's indices are affine in the loop dims with non-negative coefficients (stride times
output position plus kernel offset minus the low padding), so the window is inside the input iff
its first index (all dims 0) is >= 0 and its last (all dims at their extent - 1) is < the size, per
padded axis. No buffer is added; code grows by one copy of each padded reduction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import arith, ir, linalg, memref, scf, walk_ops
from ..analysis.linalg_util import (constant_int, defining_op, erase_dead_body_ops, indexing_maps, involves_dim,
                                      iterator_kinds, move_body, num_inputs)
from .dot_products import loop_extents, match_dot_product
from ..passes import ModulePass


@dataclass
class LinearIndex:
    """An index as `sum(coeffs[d] * d) + sum(m * v for v, m in terms) + constant`: loop dims `d` of the
    generic, values `v` defined outside it."""

    coeffs: dict[int, int]
    terms: list[tuple[ir.Value, int]]
    constant: int

    def scaled(self, k: int) -> "LinearIndex":
        return LinearIndex({d: c * k for d, c in self.coeffs.items()}, [(v, m * k) for v, m in self.terms],
                           self.constant * k)

    def plus(self, other: "LinearIndex") -> "LinearIndex":
        coeffs = dict(self.coeffs)
        for d, c in other.coeffs.items():
            coeffs[d] = coeffs.get(d, 0) + c
        return LinearIndex(coeffs, self.terms + other.terms, self.constant + other.constant)


def _is_outside(value: ir.Value, op) -> bool:
    """Defined outside the generic `op` (not one of its body values)."""
    owner = value.owner
    block = owner if isinstance(owner, ir.Block) else owner.operation.block
    while block is not None:
        parent = block.owner.operation if block.owner is not None else None
        if parent == op:
            return False
        if parent is None or parent.name == "func.func":
            return True
        block = parent.block
    return True


def linear_index(value: ir.Value, op) -> LinearIndex | None:
    """`value` (an index computed in the body of `op`) as a LinearIndex, or None."""
    c = constant_int(value)
    if c is not None:
        return LinearIndex({}, [], c)
    if _is_outside(value, op):
        return LinearIndex({}, [(value, 1)], 0)
    producer = defining_op(value)
    if producer is None:
        return None
    if producer.name == "linalg.index":
        return LinearIndex({ir.IntegerAttr(producer.attributes["dim"]).value: 1}, [], 0)
    if producer.name in ("arith.addi", "arith.subi"):
        lhs, rhs = (linear_index(v, op) for v in producer.operands)
        if lhs is None or rhs is None:
            return None
        return lhs.plus(rhs if producer.name == "arith.addi" else rhs.scaled(-1))
    if producer.name == "arith.muli":
        for a, b in (producer.operands, reversed(list(producer.operands))):
            k = constant_int(b)
            if k is not None:
                inner = linear_index(a, op)
                return inner.scaled(k) if inner is not None else None
    return None


def _unclamped(index: ir.Value) -> ir.Value:
    """`s` for an index `min(max(s, 0), upper)`, else the index itself."""
    low = defining_op(index)
    if low is not None and low.name == "arith.minsi":
        high = defining_op(low.operands[0])
        if high is not None and high.name == "arith.maxsi" and constant_int(high.operands[1]) == 0:
            return high.operands[0]
    return index


def _padded_read(op):
    """(select, load) of the one padded read `select(in_bounds, memref.load src[clamped], pad)` in
    the body of `op`, or None."""
    found = []
    for body_op in op.regions[0].blocks[0].operations:
        body_op = body_op.operation
        if body_op.name != "arith.select":
            continue
        load = defining_op(body_op.operands[1])
        pad = body_op.operands[2]
        if load is not None and load.name == "memref.load" and _is_outside(load.operands[0], op) \
                and (_is_outside(pad, op) or constant_int(pad) is not None):
            found.append((body_op, load))
    return found[0] if len(found) == 1 else None


def _emit_base(index: LinearIndex, extra: int = 0) -> ir.Value:
    """The outside part of `index` plus `extra`, as arith on index values."""
    ty = ir.IndexType.get()
    total = arith.ConstantOp(ty, index.constant + extra).result
    for value, m in index.terms:
        term = value if m == 1 else arith.MulIOp(value, arith.ConstantOp(ty, m).result).result
        total = arith.AddIOp(total, term).result
    return total


def peel(op) -> bool:
    """Split one generic with a padded read into an interior copy and the original; False when it does
    not qualify."""
    if len(op.results) or not all(isinstance(v.type, ir.MemRefType) or not isinstance(v.type, ir.ShapedType)
                                  for v in op.operands):
        return False
    read = _padded_read(op)
    extents = loop_extents(op) if read else None
    if extents is None or not all(isinstance(e, int) for e in extents):
        return False
    select, load = read
    pad = constant_int(select.operands[2])
    source = load.operands[0]
    source_type = ir.MemRefType(source.type)
    strides, _ = source_type.get_strides_and_offset()  # an FFMT tile's map: its row stride read at run time
    dyn = ir.ShapedType.get_dynamic_stride_or_offset()
    raw_indices = list(load.operands)[1:]
    clamped = [_unclamped(v) != v for v in raw_indices]  # the axes the original bounds-checks
    indices = [linear_index(_unclamped(v), op) for v in raw_indices]
    if any(i is None or any(c < 0 for c in i.coeffs.values()) for i in indices):
        return False
    spans = [1 + sum(c * (extents[d] - 1) for d, c in i.coeffs.items()) for i in indices]
    if any(size >= 0 and span > size for span, size in zip(spans, source_type.shape)):
        return False
    index_ty = ir.IndexType.get()
    with ir.InsertionPoint(op), op.location:
        bases, inside, conditioned = [], None, []
        sizes = [size if size >= 0 else memref.DimOp(source, arith.ConstantOp(index_ty, axis).result).result
                 for axis, size in enumerate(source_type.shape)]  # an edge tile's input: its size at run time
        for axis, (index, span, size) in enumerate(zip(indices, spans, sizes)):
            base = _emit_base(index)
            bases.append(base)
            if not clamped[axis]:
                continue  # read unchecked by the original too
            conditioned.append(axis)
            first_ok = arith.CmpIOp(arith.CmpIPredicate.sge, base, arith.ConstantOp(index_ty, 0).result).result
            last = arith.AddIOp(base, arith.ConstantOp(index_ty, span - 1).result).result
            bound = arith.ConstantOp(index_ty, size).result if isinstance(size, int) else size
            last_ok = arith.CmpIOp(arith.CmpIPredicate.slt, last, bound).result
            ok = arith.AndIOp(first_ok, last_ok).result
            inside = ok if inside is None else arith.AndIOp(inside, ok).result
        if inside is None:
            inside = arith.ConstantOp(ir.IntegerType.get_signless(1), 1).result
        branch = scf.IfOp(inside, [], has_else=True)
    window_type = ir.MemRefType.get(spans, source_type.element_type,
                                    ir.StridedLayoutAttr.get(offset=dyn, strides=strides))
    n_dims = len(extents)
    window_maps = [sum((ir.AffineExpr.get_dim(d) * c for d, c in sorted(i.coeffs.items())),
                       ir.AffineExpr.get_constant(0)) for i in indices]
    window_map = ir.AffineMap.get(n_dims, 0, window_maps)
    n_in = num_inputs(op)
    maps = indexing_maps(op)
    with ir.InsertionPoint(branch.else_block), op.location:
        border = op.clone()  # the border: the original, bounds checks and all (unless clipped below)
        scf.YieldOp([])
    with ir.InsertionPoint(branch.then_block), op.location:
        window = memref.SubViewOp(window_type, source, bases, [], [], [dyn] * len(spans), spans,
                                  [1] * len(spans)).result
        inputs = list(op.operands)[:n_in] + [window]
        outputs = list(op.operands)[n_in:]
        new_maps = maps[:n_in] + [window_map] + maps[n_in:]
        interior = linalg.GenericOp([], inputs, outputs,
                                    ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in new_maps]),
                                    op.attributes["iterator_types"])
        old_block = op.regions[0].blocks[0]
        arg_types = [a.type for a in old_block.arguments]
        block = interior.regions[0].blocks.append(*arg_types[:n_in], source_type.element_type, *arg_types[n_in:])
        scf.YieldOp([])
    new_args = list(block.arguments)
    select.results[0].replace_all_uses_with(new_args[n_in])
    for i, old_arg in enumerate(old_block.arguments):
        old_arg.replace_all_uses_with(new_args[i if i < n_in else i + 1])
    move_body(old_block, block)
    erase_dead_body_ops(block)
    op.erase()
    clipped = _clip_plan(interior, indices, extents, conditioned, pad)
    if clipped:
        with ir.InsertionPoint(border), border.location:
            _clipped_copy(interior, clipped, source, bases, spans, extents, sizes)
        border.erase()
    return True


def _clip_plan(interior, indices: list[LinearIndex], extents: list[int], conditioned: list[int],
               pad: int | None) -> dict[int, int] | None:
    """{window axis: the reduction loop that walks it} when the border can read the window clipped to
    the input: the padding contributes nothing to the dot product (its value is the zero point the
    product subtracts), each tested axis is walked by one reduction loop with step one, and every
    other input indexes those loops plainly. None otherwise."""
    factors = match_dot_product(interior)
    n_in = num_inputs(interior) - 1  # the window is the last input
    window = [f for f in factors or () if f.input_index == n_in]
    if pad is None or len(window) != 1 or pad + window[0].offset != 0:
        return None
    kinds = iterator_kinds(interior)
    plan: dict[int, int] = {}
    for axis in conditioned:
        walking = [d for d, c in indices[axis].coeffs.items() if c and extents[d] > 1]
        if len(walking) != 1 or indices[axis].coeffs[walking[0]] != 1 or kinds[walking[0]] != "reduction" \
                or walking[0] in plan.values():
            return None
        plan[axis] = walking[0]
    maps = indexing_maps(interior)
    for m in maps[:n_in] + maps[n_in + 1:]:
        for e in m.results:
            if any(involves_dim(e, d) for d in plan.values()) and not isinstance(e, ir.AffineDimExpr):
                return None
    if any(involves_dim(e, d) for e in maps[-1].results for d in plan.values()):
        return None
    return plan


def _subview(value: ir.Value, offsets: list, sizes: list) -> ir.Value:
    """A unit-stride subview of `value`; offsets and sizes are ints or index Values."""
    t = ir.MemRefType(value.type)
    strides, _ = t.get_strides_and_offset()
    dyn = ir.ShapedType.get_dynamic_size()
    dyn_off = ir.ShapedType.get_dynamic_stride_or_offset()
    static_sizes = [s if isinstance(s, int) else dyn for s in sizes]
    result = ir.MemRefType.get(static_sizes, t.element_type, ir.StridedLayoutAttr.get(offset=dyn_off, strides=strides))
    return memref.SubViewOp(result, value, [o for o in offsets if not isinstance(o, int)],
                            [s for s in sizes if not isinstance(s, int)], [],
                            [o if isinstance(o, int) else dyn_off for o in offsets], static_sizes,
                            [1] * len(sizes)).result


def _clipped_copy(interior, plan: dict[int, int], source: ir.Value, bases: list, spans: list[int],
                  extents: list[int], sizes: list) -> None:
    """The interior reduction again, on the part of the window inside the input: each clipped loop runs
    over [lo, hi) = [max(0, -base), min(extent, size - base)), the window and the inputs indexed by
    that loop are subviews starting at lo."""
    index = ir.IndexType.get()
    c = lambda v: arith.ConstantOp(index, v).result  # noqa: E731
    size = [c(v) if isinstance(v, int) else v for v in sizes]
    lo, length = {}, {}
    for axis, d in plan.items():
        first = arith.MaxSIOp(arith.SubIOp(c(0), bases[axis]).result, c(0)).result
        last = arith.MinSIOp(c(extents[d]), arith.SubIOp(size[axis], bases[axis]).result).result
        lo[d] = first
        length[d] = arith.MaxSIOp(arith.SubIOp(last, first).result, c(0)).result
    window = _subview(source, [arith.AddIOp(bases[a], lo[plan[a]]).result if a in plan else bases[a]
                               for a in range(len(spans))],
                      [length[plan[a]] if a in plan else spans[a] for a in range(len(spans))])
    maps = indexing_maps(interior)
    n_in = num_inputs(interior) - 1
    clipped_inputs = {}
    for i in range(n_in):
        dims = [ir.AffineDimExpr(e).position if isinstance(e, ir.AffineDimExpr) else None for e in maps[i].results]
        if not any(d in plan.values() for d in dims):
            continue
        shape = ir.MemRefType(interior.operands[i].type).shape
        clipped_inputs[i] = _subview(interior.operands[i], [lo[d] if d in lo else 0 for d in dims],
                                     [length[d] if d in length else shape[a] for a, d in enumerate(dims)])
    copy = interior.clone()
    for i, value in clipped_inputs.items():
        copy.operands[i] = value
    copy.operands[n_in] = window


@dataclass(frozen=True)
class PeelPaddedWindows(ModulePass):
    """Read each padded window without bounds checks when it lies inside its input."""

    name = "fdt-peel-padded-windows"
    summary = "split padded-window reductions into a bounds-check-free interior copy and the border original"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in [o for o in walk_ops(module.operation) if o.name == "linalg.generic"]:
                peel(op)
