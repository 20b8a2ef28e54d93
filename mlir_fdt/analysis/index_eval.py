"""Evaluate index computations (arith, affine) for concrete loop iterations.

Tiling with halos makes some tile shapes depend on the tile position (clamped at the image
edges). Every loop here has static bounds, so the largest value an index expression takes is
found by evaluating it for every iteration of the loops around it; that gives the static size
the memory planner reserves for a dynamically shaped tile, and the exact MAC count of a tiled
program.
"""

from __future__ import annotations

import math

from ..ir import ir
from .linalg_util import num_inputs


class NotStatic(Exception):
    """The value depends on something other than constants and loop induction variables."""


# affine binary expressions: (class, integer function)
_AFFINE_BINARY = ((ir.AffineAddExpr, lambda a, b: a + b), (ir.AffineMulExpr, lambda a, b: a * b),
                  (ir.AffineModExpr, lambda a, b: a % b), (ir.AffineFloorDivExpr, lambda a, b: a // b),
                  (ir.AffineCeilDivExpr, lambda a, b: -(-a // b)))


def _eval_expr(expr: ir.AffineExpr, dims: list[int], syms: list[int]) -> int:
    if isinstance(expr, ir.AffineConstantExpr):
        return expr.value
    if isinstance(expr, ir.AffineDimExpr):
        return dims[expr.position]
    if isinstance(expr, ir.AffineSymbolExpr):
        return syms[expr.position]
    for kind, f in _AFFINE_BINARY:
        if isinstance(expr, kind):
            return f(_eval_expr(expr.lhs, dims, syms), _eval_expr(expr.rhs, dims, syms))
    raise NotStatic(f"affine expression {expr}")


_BINARY = {
    "arith.addi": lambda a, b: a + b, "arith.subi": lambda a, b: a - b, "arith.muli": lambda a, b: a * b,
    "arith.maxsi": max, "arith.minsi": min, "arith.maxui": max, "arith.minui": min,
    "arith.divsi": lambda a, b: int(a / b), "arith.divui": lambda a, b: a // b,
    "arith.floordivsi": lambda a, b: a // b, "arith.ceildivsi": lambda a, b: -(-a // b),
    "arith.remsi": lambda a, b: int(math.fmod(a, b)), "arith.remui": lambda a, b: a % b,
}
_CASTS = ("arith.index_cast", "arith.index_castui", "arith.extsi", "arith.extui", "arith.trunci")
# arith.cmpi predicates in order: eq ne slt sle sgt sge ult ule ugt uge (index values are non-negative here)
_EQ, _NE, _LT, _LE, _GT, _GE = (lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a < b, lambda a, b: a <= b,
                                lambda a, b: a > b, lambda a, b: a >= b)
_COMPARE = [_EQ, _NE, _LT, _LE, _GT, _GE, _LT, _LE, _GT, _GE]
_BITWISE = {"arith.andi": lambda a, b: a & b, "arith.ori": lambda a, b: a | b, "arith.xori": lambda a, b: a ^ b}
_PICK = {"affine.apply": lambda r: r[0], "affine.min": min, "affine.max": max}
_DIMS = ("memref.dim", "tensor.dim")


def evaluate(value: ir.Value, env: dict) -> int:
    """The integer `value` takes when the loop induction variables are bound as in `env`."""
    if value in env:
        return env[value]
    owner = value.owner
    if isinstance(owner, ir.Block):
        raise NotStatic("a block argument that is not a bound induction variable")
    op = owner.operation
    name = op.name
    if name == "arith.constant":
        return ir.IntegerAttr(op.attributes["value"]).value
    if name in _CASTS:
        return evaluate(op.operands[0], env)
    if name in _BINARY:
        return _BINARY[name](evaluate(op.operands[0], env), evaluate(op.operands[1], env))
    if name == "arith.cmpi":
        compare = _COMPARE[int(ir.IntegerAttr(op.attributes["predicate"]).value)]
        return int(compare(evaluate(op.operands[0], env), evaluate(op.operands[1], env)))
    if name == "arith.select":
        return evaluate(op.operands[1] if evaluate(op.operands[0], env) else op.operands[2], env)
    if name in _BITWISE:
        return _BITWISE[name](evaluate(op.operands[0], env), evaluate(op.operands[1], env))
    if name in _DIMS:
        return dim_size(op.operands[0], evaluate(op.operands[1], env), env)
    if name in _PICK:
        amap = ir.AffineMapAttr(op.attributes["map"]).value
        args = [evaluate(v, env) for v in op.operands]
        dims, syms = args[:amap.n_dims], args[amap.n_dims:]
        return _PICK[name]([_eval_expr(e, dims, syms) for e in amap.results])
    raise NotStatic(f"{name} at {op.location}")


def dim_size(value: ir.Value, axis: int, env: dict) -> int:
    """Size of `value` along `axis` in one loop iteration (follows views to dynamic sizes)."""
    shape = ir.ShapedType(value.type).shape
    if shape[axis] >= 0:
        return shape[axis]
    op = value.owner.operation
    dynamic_before = sum(1 for d in shape[:axis] if d < 0)
    if op.name in ("memref.alloc", "memref.view", "tensor.empty", "tensor.generate"):  # sizes: the dynamic extents
        sizes = list(op.operands)[1:] if op.name == "memref.view" else list(op.operands)
        return evaluate(sizes[dynamic_before], env)
    if op.name in ("memref.subview", "tensor.extract_slice"):
        static = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
        seg = list(ir.DenseI32ArrayAttr(op.attributes["operandSegmentSizes"]))
        sizes = list(op.operands)[1 + seg[1]: 1 + seg[1] + seg[2]]
        dyn = [i for i, s in enumerate(static) if s < 0]
        # rank-reducing slices keep the order of the non-dropped dims; ours never drop dims
        return evaluate(sizes[dyn.index(axis)], env)
    if op.name in ("memref.cast", "tensor.cast"):
        return dim_size(op.operands[0], axis, env)
    if op.name in ("memref.collapse_shape", "tensor.collapse_shape"):  # the product of the axes it merges
        group = [ir.IntegerAttr(d).value for d in ir.ArrayAttr(op.attributes["reassociation"])[axis]]
        size = 1
        for source_axis in group:
            size *= dim_size(op.operands[0], source_axis, env)
        return size
    if op.name in ("memref.expand_shape", "tensor.expand_shape"):  # the output shape it was given
        static = list(ir.DenseI64ArrayAttr(op.attributes["static_output_shape"]))
        dynamic = list(op.operands)[1:]
        return evaluate(dynamic[sum(1 for d in static[:axis] if d < 0)], env)
    if op.name == "linalg.generic":  # a result has the shape of its init (outs) operand
        n_in = num_inputs(op)
        return dim_size(op.operands[n_in + list(op.results).index(value)], axis, env)
    if op.name == "tensor.pad":
        dyn = ir.ShapedType.get_dynamic_size()
        low = list(ir.DenseI64ArrayAttr(op.attributes["static_low"]))
        high = list(ir.DenseI64ArrayAttr(op.attributes["static_high"]))
        dynamic = iter(list(op.operands)[1:])
        lows = [evaluate(next(dynamic), env) if v == dyn else v for v in low]
        highs = [evaluate(next(dynamic), env) if v == dyn else v for v in high]
        return dim_size(op.operands[0], axis, env) + lows[axis] + highs[axis]
    if op.name == "scf.if":  # the branch this iteration takes decides the shape
        branch = op.regions[0 if evaluate(op.operands[0], env) else 1].blocks[0]
        yielded = list(branch.operations)[-1].operation.operands[list(op.results).index(value)]
        return dim_size(yielded, axis, env)
    raise NotStatic(f"the size of {op.name} results")




def _compile_expr(expr: ir.AffineExpr, n_dims: int):
    """`_eval_expr` as a function of the operand values (dims, then symbols)."""
    if isinstance(expr, ir.AffineConstantExpr):
        c = expr.value
        return lambda vals: c
    if isinstance(expr, ir.AffineDimExpr):
        k = expr.position
        return lambda vals: vals[k]
    if isinstance(expr, ir.AffineSymbolExpr):
        k = n_dims + expr.position
        return lambda vals: vals[k]
    lhs, rhs = _compile_expr(expr.lhs, n_dims), _compile_expr(expr.rhs, n_dims)
    for kind, f in _AFFINE_BINARY:
        if isinstance(expr, kind):
            return lambda vals: f(lhs(vals), rhs(vals))
    raise NotStatic(f"affine expression {expr}")


def compile_index(value: ir.Value, cache: dict):
    """`evaluate` of `value` as a Python function of the bindings (`fn(env) -> int`), reading the IR once:
    for counts that evaluate the same bound or condition at many loop positions. Raises NotStatic when
    called, as `evaluate` would."""
    if value in cache:
        return cache[value]
    owner = value.owner
    fn = None
    if isinstance(owner, ir.Block):
        def fn(env, v=value):
            if v not in env:
                raise NotStatic("a block argument that is not a bound induction variable")
            return env[v]
    else:
        op = owner.operation
        name = op.name
        args = [compile_index(v, cache) for v in op.operands] if name not in ("arith.constant", *_DIMS) else []
        if name in _DIMS:  # the size of a view, evaluated at each binding (rare: dynamic tiles)
            fn = lambda env, op=op: evaluate(op.results[0], env)  # noqa: E731
        elif name == "arith.constant":
            c = ir.IntegerAttr(op.attributes["value"]).value
            fn = lambda env, c=c: c  # noqa: E731
        elif name in _CASTS:
            fn = args[0]
        elif name in _BINARY or name in _BITWISE:
            f, (a, b) = _BINARY.get(name) or _BITWISE[name], args
            fn = lambda env: f(a(env), b(env))  # noqa: E731
        elif name == "arith.cmpi":
            compare, (a, b) = _COMPARE[int(ir.IntegerAttr(op.attributes["predicate"]).value)], args
            fn = lambda env: int(compare(a(env), b(env)))  # noqa: E731
        elif name == "arith.select":
            c, a, b = args
            fn = lambda env: a(env) if c(env) else b(env)  # noqa: E731
        elif name in _PICK:
            amap = ir.AffineMapAttr(op.attributes["map"]).value
            results = [_compile_expr(e, amap.n_dims) for e in amap.results]
            pick = _PICK[name]

            def fn(env, args=args, results=results, pick=pick):
                vals = [a(env) for a in args]
                return pick([r(vals) for r in results])
        else:
            where = f"{name} at {op.location}"

            def fn(env, where=where):
                raise NotStatic(where)
    cache[value] = fn
    return fn


def enclosing_loops(op: ir.Operation) -> list[ir.Operation]:
    """The scf.for ops around `op`, outermost first."""
    loops = []
    parent = op.parent
    while parent is not None:
        parent = parent.operation
        if parent.name == "scf.for":
            loops.append(parent)
        if parent.name == "func.func":
            break
        parent = parent.parent
    return loops[::-1]


def iterations(loops: list[ir.Operation], limit: int = 1_000_000):
    """Every binding of the loops' induction variables (outer bounds may depend on inner ones)."""
    def rec(i: int, env: dict):
        if i == len(loops):
            yield dict(env)
            return
        loop = loops[i]
        lb, ub, step = (evaluate(loop.operands[k], env) for k in range(3))
        iv = loop.regions[0].blocks[0].arguments[0]
        for x in range(lb, ub, step):
            env[iv] = x
            yield from rec(i + 1, env)
        env.pop(iv, None)
    count = 0
    for env in rec(0, {}):
        count += 1
        if count > limit:
            raise NotStatic(f"more than {limit} loop iterations to enumerate")
        yield env


def constant_over_iterations(value: ir.Value, at: ir.Operation) -> int | None:
    """The one value `value` takes in every iteration of the loops around `at`; None as soon as it takes a
    second one (a streamed path's step guards differ from the first steps on: no full enumeration)."""
    seen = None
    for env in iterations(enclosing_loops(at)):
        x = evaluate(value, env)
        if seen is not None and x != seen:
            return None
        seen = x
    return seen


def max_over_iterations(values: list[ir.Value], at: ir.Operation) -> list[int]:
    """Largest value of each of `values` over every iteration of the loops around `at`."""
    best = [None] * len(values)
    for env in iterations(enclosing_loops(at)):
        for i, v in enumerate(values):
            x = evaluate(v, env)
            best[i] = x if best[i] is None else max(best[i], x)
    if any(b is None for b in best):
        return [evaluate(v, {}) for v in values]
    return [int(b) for b in best]
