"""Bounds of index computations over whole loops: interval arithmetic on arith and affine ops.

`index_eval` evaluates an index for one binding of the loop induction variables. Here some
induction variables are bound to one value and the others range over their loop's iterations;
`value_range` returns an interval [lo, hi] (inclusive) that contains every value the index takes.
The interval may be wider than the exact set (it is a sound over-approximation), never narrower.
"""

from __future__ import annotations

from ..ir import ir
from .index_eval import NotStatic

Range = tuple[int, int]


def _add(a: Range, b: Range) -> Range:
    return (a[0] + b[0], a[1] + b[1])


def _sub(a: Range, b: Range) -> Range:
    return (a[0] - b[1], a[1] - b[0])


def _mul(a: Range, b: Range) -> Range:
    products = [x * y for x in a for y in b]
    return (min(products), max(products))


def _positive_constant(r: Range, what: str) -> int:
    if r[0] != r[1] or r[0] <= 0:
        raise NotStatic(f"{what} by a value that is not a positive constant")
    return r[0]


def _floordiv(a: Range, b: Range) -> Range:
    c = _positive_constant(b, "division")
    return (a[0] // c, a[1] // c)


def _ceildiv(a: Range, b: Range) -> Range:
    c = _positive_constant(b, "division")
    return (-(-a[0] // c), -(-a[1] // c))


def _truncdiv(a: Range, b: Range) -> Range:
    c = _positive_constant(b, "division")
    return (int(a[0] / c), int(a[1] / c))


def _mod(a: Range, b: Range) -> Range:
    c = _positive_constant(b, "remainder")
    if a[0] >= 0 and a[0] // c == a[1] // c:
        return (a[0] % c, a[1] % c)
    if a[0] < 0:
        raise NotStatic("remainder of a possibly negative value")
    return (0, c - 1)


def _hull(a: Range, b: Range) -> Range:
    return (min(a[0], b[0]), max(a[1], b[1]))


_BINARY = {
    "arith.addi": _add, "arith.subi": _sub, "arith.muli": _mul,
    "arith.maxsi": lambda a, b: (max(a[0], b[0]), max(a[1], b[1])),
    "arith.maxui": lambda a, b: (max(a[0], b[0]), max(a[1], b[1])),
    "arith.minsi": lambda a, b: (min(a[0], b[0]), min(a[1], b[1])),
    "arith.minui": lambda a, b: (min(a[0], b[0]), min(a[1], b[1])),
    "arith.divsi": _truncdiv, "arith.divui": _floordiv, "arith.floordivsi": _floordiv,
    "arith.ceildivsi": _ceildiv, "arith.remsi": _mod, "arith.remui": _mod,
}


def _compare(pred: int, a: Range, b: Range) -> Range:
    """cmpi over intervals: a definite answer when every pair of values agrees, else [0, 1]."""
    # eq ne slt sle sgt sge ult ule ugt uge (index values compared here are non-negative)
    always = [a[0] == a[1] == b[0] == b[1], a[1] < b[0] or b[1] < a[0], a[1] < b[0], a[1] <= b[0],
              a[0] > b[1], a[0] >= b[1]]
    never = [a[1] < b[0] or b[1] < a[0], a[0] == a[1] == b[0] == b[1], a[0] >= b[1], a[0] > b[1],
             a[1] <= b[0], a[1] < b[0]]
    k = pred if pred < 6 else pred - 4
    if always[k]:
        return (1, 1)
    if never[k]:
        return (0, 0)
    return (0, 1)


def _affine(expr: ir.AffineExpr, dims: list[Range], syms: list[Range]) -> Range:
    if isinstance(expr, ir.AffineConstantExpr):
        return (expr.value, expr.value)
    if isinstance(expr, ir.AffineDimExpr):
        return dims[expr.position]
    if isinstance(expr, ir.AffineSymbolExpr):
        return syms[expr.position]
    lhs, rhs = _affine(expr.lhs, dims, syms), _affine(expr.rhs, dims, syms)
    for kind, fn in ((ir.AffineAddExpr, _add), (ir.AffineMulExpr, _mul), (ir.AffineModExpr, _mod),
                     (ir.AffineFloorDivExpr, _floordiv), (ir.AffineCeilDivExpr, _ceildiv)):
        if isinstance(expr, kind):
            return fn(lhs, rhs)
    raise NotStatic(f"affine expression {expr}")


def _generic_dim_bound(generic: ir.Operation, dim: int) -> int:
    """Trip count of loop `dim` of a linalg.generic: the static size of an operand dimension that
    the loop indexes directly."""
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(generic.attributes["indexing_maps"])]
    for operand, amap in zip(generic.operands, maps):
        if not isinstance(operand.type, ir.ShapedType):  # types come downcast: MemRefType, ...
            continue  # a scalar operand
        shape = list(ir.ShapedType(operand.type).shape)
        for k, expr in enumerate(amap.results):
            if isinstance(expr, ir.AffineDimExpr) and expr.position == dim and shape[k] >= 0:
                return shape[k]
    raise NotStatic(f"loop {dim} of the linalg.generic at {generic.location} has no static size")


def _loop_range(loop: ir.Operation, env: dict, cache: dict) -> Range:
    """Every value the induction variable of an unbound `scf.for` takes."""
    lb, ub, step = (value_range(loop.operands[k], env, cache) for k in range(3))
    if step[0] <= 0:
        raise NotStatic("a loop whose step is not positive")
    return (lb[0], max(lb[0], ub[1] - 1))


class InvariantRanges:
    """For bindings of one induction variable `iv` in turn (an enumeration of its loop's iterations): the
    ranges of the values that do not depend on it, computed once for all the bindings. `for_binding()` is
    the `value_range` cache of one binding; it keeps there only the ranges of values that depend on `iv`."""

    def __init__(self, iv: ir.Value):
        self.iv = iv
        self.ranges: dict = {}
        self._varies: dict = {}

    def varies(self, value: ir.Value) -> bool:
        """Whether `value` may differ between two bindings of `iv` (unknown kinds of values: yes)."""
        known = self._varies.get(value)
        if known is not None:
            return known
        if value == self.iv:
            result = True
        elif isinstance(value.owner, ir.Block):  # another loop's induction variable: through its bounds
            parent = value.owner.owner.operation if value.owner.owner is not None else None
            result = parent is None or parent.name != "scf.for" or value != value.owner.arguments[0] or \
                any(self.varies(v) for v in list(parent.operands)[:3])
        else:
            op = value.owner.operation
            result = op.name == "linalg.index" or any(self.varies(v) for v in op.operands)
        self._varies[value] = result
        return result

    def for_binding(self) -> "_BindingCache":
        return _BindingCache(self)


class _BindingCache(dict):
    def __init__(self, invariant: InvariantRanges):
        super().__init__()
        self.invariant = invariant

    def __contains__(self, value) -> bool:
        return dict.__contains__(self, value) or value in self.invariant.ranges

    def __getitem__(self, value) -> Range:
        if dict.__contains__(self, value):
            return dict.__getitem__(self, value)
        return self.invariant.ranges[value]

    def __setitem__(self, value, result: Range) -> None:
        if self.invariant.varies(value):
            dict.__setitem__(self, value, result)
        else:
            self.invariant.ranges[value] = result


def value_range(value: ir.Value, env: dict, cache: dict | None = None) -> Range:
    """An interval containing every value of `value` when the induction variables in `env` have
    the given values (ints) and every other loop's induction variable ranges over its loop."""
    cache = {} if cache is None else cache
    if value in env:
        bound = env[value]
        return (bound, bound) if isinstance(bound, int) else bound
    if value in cache:
        return cache[value]
    owner = value.owner
    if isinstance(owner, ir.Block):
        parent = owner.owner.operation if owner.owner is not None else None
        if parent is None or parent.name != "scf.for" or value != owner.arguments[0]:
            raise NotStatic("a block argument that is not a loop induction variable")
        result = _loop_range(parent, env, cache)
    else:
        result = _op_range(owner.operation, env, cache)
    cache[value] = result
    return result


def _logical(op: ir.Operation, env: dict, cache: dict) -> Range:
    """andi / ori: of two definite values, their value; of conditions (i1), the answer one operand decides
    alone (a false operand of an andi, say, whatever the other: `step - offset` may be negative before a
    streamed layer starts, where its phase is not evaluated)."""
    ranges = []
    for v in op.operands:
        try:
            ranges.append(value_range(v, env, cache))
        except NotStatic:
            ranges.append(None)
    a, b = ranges
    if a is not None and b is not None and a[0] == a[1] and b[0] == b[1]:
        x = a[0] & b[0] if op.name == "arith.andi" else a[0] | b[0]
        return (x, x)
    if ir.IntegerType(op.results[0].type).width != 1:
        raise NotStatic(f"{op.name} of integers not known at {op.location}")
    decided = (0, 0) if op.name == "arith.andi" else (1, 1)
    return decided if decided in ranges else (0, 1)


def _op_range(op: ir.Operation, env: dict, cache: dict) -> Range:
    name = op.name
    args = lambda: [value_range(v, env, cache) for v in op.operands]  # noqa: E731
    if name == "arith.constant":
        x = ir.IntegerAttr(op.attributes["value"]).value
        return (x, x)
    if name in ("arith.index_cast", "arith.index_castui", "arith.extsi", "arith.extui"):
        return value_range(op.operands[0], env, cache)
    if name in _BINARY:
        a, b = args()
        return _BINARY[name](a, b)
    if name == "arith.cmpi":
        a, b = args()
        return _compare(int(ir.IntegerAttr(op.attributes["predicate"]).value), a, b)
    if name in ("arith.andi", "arith.ori"):  # conditions (a streamed layer's beat), and definite integers
        return _logical(op, env, cache)
    if name == "arith.select":
        cond = value_range(op.operands[0], env, cache)
        if cond == (1, 1):
            return value_range(op.operands[1], env, cache)
        if cond == (0, 0):
            return value_range(op.operands[2], env, cache)
        return _hull(value_range(op.operands[1], env, cache), value_range(op.operands[2], env, cache))
    if name == "linalg.index":
        return (0, _generic_dim_bound(op.parent.operation, ir.IntegerAttr(op.attributes["dim"]).value) - 1)
    if name in ("affine.apply", "affine.min", "affine.max"):
        amap = ir.AffineMapAttr(op.attributes["map"]).value
        ranges = args()
        dims, syms = ranges[:amap.n_dims], ranges[amap.n_dims:]
        results = [_affine(e, dims, syms) for e in amap.results]
        if name == "affine.apply":
            return results[0]
        pick = min if name == "affine.min" else max
        return (pick(r[0] for r in results), pick(r[1] for r in results))
    raise NotStatic(f"{name} at {op.location}")
