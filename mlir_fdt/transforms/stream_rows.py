"""Streamed paths (`"method": "stream"` in a plan): a chain of layers computed depth first, one row at a
time, each intermediate map kept only as a window of the rows its consumers still need. Nothing is
computed twice (no halos), and no map of the path but its last layer's output is ever whole.

One loop over time steps `t`. A layer `u` produces its output row `r` at step `r * P_u + o_u`:
`P_u`, its period, is the product of the row strides between the path's input and `u` (a layer after
a stride-2 convolution runs every second step), and `o_u`, its offset, is the first step at which all
the input rows its row 0 reads exist (`o_u = max(o_n + (K - 1 - pad_top) * P_n)` over its inputs `n`
read through a window of `K` rows). Each map `n` the path computes (and each map it reads from
outside, copied in row by row) lives in a *window*: `D_n` rows of the map's columns, shifted up by one
row (in place, `bufferize.copy_overlapping_rows_directly`) each time `n` produces one, the new row
written at the bottom. Rows before the first and after the last are the padding value, so every layer
reads a fixed-size slice of its input windows at a fixed offset: the loop body holds the layer's own
ops on static shapes of one row, with no bounds checks on rows (a consumer padding its columns pads its
slice, folded into its loops as in untiled code). The last layer writes its rows into its whole output,
which leaves the loop; a global pooling last adds each row to its sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from iree.compiler.dialects import arith, linalg, scf, tensor

from ..analysis.layers import LAYER_ATTR, Layer, is_global_pool
from ..analysis.linalg_util import defining_op, indexing_maps, involves_dim, is_all_parallel, num_inputs, take_body
from ..analysis.macs import loop_ranges
from ..errors import FdtError
from ..ir import ir
from ..memory.liveness import element_bytes
from ..memory.stream_input import STREAM_ATTR

DYNAMIC = -9223372036854775808  # ShapedType::kDynamic, the marker of a dynamic offset


@dataclass
class _Read:
    """A layer's op reading a map (`node`) row-wise: `rows` input rows for one output row (the
    kernel height; 1 for an elementwise read), `stride`, and the padding of the `tensor.pad` in
    between (none when read directly)."""
    op: ir.Operation
    operand: int
    node: ir.Value
    rows: int
    stride: int
    pad_top: int = 0
    pad_left: int = 0
    pad_right: int = 0
    padded_width: int = 0
    pad_value: ir.Value | None = None


@dataclass
class _Node:
    """A map of the path: a layer's output or an input read from outside."""
    value: ir.Value
    layer: Layer | None   # None: read from outside the path, copied into its window row by row
    period: int = 1
    offset: int = 0
    reads: list[_Read] = field(default_factory=list)  # who reads it
    reads_in: list[_Read] = field(default_factory=list)  # what it reads
    depth: int = 1        # window rows
    columns: int = 0      # a window row's length in pixels (its stride): the map's width, or more (`row_strides`)
    batch: int = 1        # rows copied at once: an input of the path copied when its reader needs them (`_batch`)
    pad_value: ir.Value | None = None
    pool: ir.Operation | None = None  # a global pooling closing the path: its reduction, fed a row a step

    @property
    def shape(self) -> list[int]:
        return list(ir.RankedTensorType(self.value.type).shape)

    def at(self, row: int, column: int) -> list[int]:
        """Offsets of (row, column) in the node's window (channels from 0)."""
        return [row, column] + [0] * (len(self.shape) - 2)

    @property
    def height(self) -> int:
        """Rows the node produces (a pooling: the rows it reduces)."""
        if self.pool is not None:
            return ir.RankedTensorType(self.pool.operands[0].type).shape[0]
        return self.shape[0]

    def lag(self, consumer: "_Node") -> int:
        """Rows `self` has produced beyond the first row `consumer` reads (padded coordinates)."""
        return (consumer.offset - self.offset) // self.period


def _row_read(op: ir.Operation, operand: int) -> tuple[int, int] | None:
    """(rows, stride) of operand `operand` of generic `op` per output row, or None when the operand
    does not depend on the output row (weights, biases). Refuses other row indexings."""
    maps = indexing_maps(op)
    out_rows = maps[-1].results[0]
    if not isinstance(out_rows, ir.AffineDimExpr):
        raise FdtError(f"plan: stream: {op.name} at {op.location} does not index its output rows by a loop")
    row_dim = ir.AffineDimExpr(out_rows).position
    expr = maps[operand].results[0] if maps[operand].results else None
    if expr is None or not involves_dim(expr, row_dim):
        if any(involves_dim(e, row_dim) for e in maps[operand].results):
            # (an output of height 1 folded to WxC whose input keeps a padded height: its rows are the
            # input's columns; a row-by-row copy of the input would read the wrong ones)
            raise FdtError(f"plan: stream: {op.name} at {op.location} reads its output's rows along another axis "
                           "of its input")
        return None
    if isinstance(expr, ir.AffineDimExpr):
        return 1, 1
    stride, window = _stride_plus_dim(expr, row_dim)
    if window is None:
        return 1, stride
    dim, dilation = window
    extents = loop_ranges(op)
    if extents is None:
        raise FdtError(f"plan: stream: the loops of {op.name} at {op.location} have no static extents")
    return (extents[dim] - 1) * dilation + 1, stride


def _stride_plus_dim(expr: ir.AffineExpr, row_dim: int) -> tuple[int, tuple[int, int] | None]:
    """`row * S + k * D` (either order; S, D may be 1): (S, (position of k, D) or None)."""
    def term(e):  # (dim, coefficient)
        if isinstance(e, ir.AffineDimExpr):
            return ir.AffineDimExpr(e).position, 1
        if isinstance(e, ir.AffineMulExpr):
            m = ir.AffineMulExpr(e)
            if isinstance(m.lhs, ir.AffineDimExpr) and isinstance(m.rhs, ir.AffineConstantExpr):
                return ir.AffineDimExpr(m.lhs).position, ir.AffineConstantExpr(m.rhs).value
        raise FdtError(f"plan: stream: unsupported row index {expr}")
    if isinstance(expr, ir.AffineMulExpr):
        dim, coeff = term(expr)
        if dim == row_dim:
            return coeff, None
    if isinstance(expr, ir.AffineAddExpr):
        a = ir.AffineAddExpr(expr)
        (d1, c1), (d2, c2) = term(a.lhs), term(a.rhs)
        if d1 == row_dim and d2 != row_dim:
            return c1, (d2, c2)
        if d2 == row_dim and d1 != row_dim:
            return c2, (d1, c1)
    raise FdtError(f"plan: stream: unsupported row index {expr}")


def _pad_of(op: ir.Operation) -> tuple[list[int], list[int], ir.Value]:
    low = list(ir.DenseI64ArrayAttr(op.attributes["static_low"]))
    high = list(ir.DenseI64ArrayAttr(op.attributes["static_high"]))
    body = op.regions[0].blocks[0]
    value = list(body.operations)[-1].operands[0]
    return low, high, value


def _same_value(a: ir.Value | None, b: ir.Value | None) -> bool:
    if a is None or b is None:
        return True
    ca, cb = defining_op(a), defining_op(b)
    if a == b:
        return True
    return ca is not None and cb is not None and ca.name == cb.name == "arith.constant" and \
        str(ca.attributes["value"]) == str(cb.attributes["value"])


class StreamedPath:
    """The schedule of one streamed path (periods, offsets, windows) and its rewrite."""

    def __init__(self, chain: list[Layer], interleave: bool = False):
        self.chain = chain
        self.input_streamed = _asks_for_streamed_inputs(chain[0].anchor)
        for k, layer in enumerate(chain):
            if layer.rank not in (2, 3) and not (k == len(chain) - 1 and k > 0 and is_global_pool(layer)):
                raise FdtError(f"plan: stream needs layers with an HxWxC output (or a global pooling last); "
                               f"{layer.name} has shape {layer.shape}")
        self.nodes: dict = {}      # ir.Value -> _Node, in production order
        self._timed: set = set()   # inputs of the path whose period a reader has fixed
        self.units: list[_Node] = []
        self._unit_of_op: dict | None = None  # op of a layer of the path -> its unit (`_unit_of`)
        self._prologues: dict = {}  # input map -> the element-wise op computing it, row by row (`rewrite`)
        self._step_rows: set | None = None  # maps kept a row of the step (`_step_local`)
        for layer in chain:
            node = _Node(layer.result, layer)
            if layer.rank == 1:
                node.pool = layer.reductions[0]
                reads = [_Read(node.pool, 0, node.pool.operands[0], 1, 1,
                               padded_width=ir.RankedTensorType(node.pool.operands[0].type).shape[1])]
            else:
                reads = self._reads(layer)
            for read in reads:
                if read.node not in self.nodes:
                    self.nodes[read.node] = _Node(read.node, None)  # an input of the path
                self.nodes[read.node].reads.append(read)
            node.reads_in = reads
            self._schedule(node, reads)
            self.nodes[layer.result] = node
            self.units.append(node)
        last = self.units[-1]
        self.steps = (last.height - 1) * last.period + last.offset + 1
        for node in self.nodes.values():
            self._size_window(node)
            node.batch = self._batch(node)
            node.columns = node.shape[1] if len(node.shape) > 1 else 0
        if interleave:
            for node, rows in row_strides(self._interleaved()):
                node.columns = rows * node.shape[1]

    def _reads(self, layer: Layer) -> list[_Read]:
        reads = []
        ops = layer.ops
        own = set(ops)
        for op in ops:
            if op.name == "tensor.pad" or op.name == "tensor.empty":
                continue
            if op.name != "linalg.generic":
                raise FdtError(f"plan: stream cannot run {op.name} of {layer.name} row by row")
            n_in = num_inputs(op)
            for k, value in enumerate(list(op.operands)):
                producer = defining_op(value)
                if producer is not None and producer in own and producer.name != "tensor.pad":
                    continue  # inside the layer: the same row
                if k >= n_in and producer is not None and producer.name == "tensor.empty":
                    continue
                if not isinstance(value.type, ir.RankedTensorType):
                    continue
                shape = _row_read(op, k)
                if shape is None:
                    continue  # weights, biases: whole
                rows, stride = shape
                if ir.RankedTensorType(value.type).rank not in (2, 3):  # a per-row vector: the rows are channels
                    raise FdtError(f"plan: stream: {layer.name} reads a map that is not HxW or HxWxC")
                if producer is not None and producer.name == "tensor.pad":
                    low, high, pad_value = _pad_of(producer)
                    src = producer.operands[0]
                    read = _Read(op, k, src, rows, stride, low[0], low[1], high[1],
                                 ir.RankedTensorType(value.type).shape[1], pad_value)
                else:
                    src = value
                    read = _Read(op, k, src, rows, stride, 0, 0, 0, ir.RankedTensorType(value.type).shape[1])
                if ir.RankedTensorType(src.type).rank not in (2, 3):
                    raise FdtError(f"plan: stream: {layer.name} reads a map that is not HxW or HxWxC")
                reads.append(read)
        if not reads:
            raise FdtError(f"plan: stream: {layer.name} reads no map row by row")
        return reads

    def _schedule(self, node: _Node, reads: list[_Read]) -> None:
        """The layer's period and offset. An input of the path read for the first time takes the period its
        reader implies (a 1x1 stride-2 skip reads its input twice as fast as the main path's output)."""
        fresh = [r for r in reads if self.nodes[r.node].layer is None and r.node not in self._timed]
        periods = {self.nodes[r.node].period * r.stride for r in reads if r not in fresh}
        if not periods:
            periods = {max(r.stride for r in fresh)}
        if len(periods) != 1:
            raise FdtError(f"plan: stream: the inputs of {node.layer.name} run at different row rates")
        node.period = periods.pop()
        for r in fresh:
            if node.period % r.stride or r.node in self._timed and self.nodes[r.node].period != node.period // r.stride:
                raise FdtError(f"plan: stream: the inputs of {node.layer.name} run at different row rates")
            self.nodes[r.node].period = node.period // r.stride
            self._timed.add(r.node)
        self._timed.update(r.node for r in reads)
        node.offset = max(self.nodes[r.node].offset + max(0, r.rows - 1 - r.pad_top) * self.nodes[r.node].period
                          for r in reads)

    def _size_window(self, node: _Node) -> None:
        if node is self.units[-1]:
            return
        values = [r.pad_value for r in node.reads if r.pad_value is not None]
        for v in values[1:]:
            if not _same_value(values[0], v):
                raise FdtError("plan: stream: a map is padded with two different values")
        node.pad_value = values[0] if values else None
        for r in node.reads:
            consumer = self._unit_of(r.op)
            node.depth = max(node.depth, node.lag(consumer) + r.pad_top + 1)
        if node.layer is None:  # a one-row copy of an input would fold into the input's slice: at least two
            node.depth = max(node.depth, 2)

    def _interleaved(self) -> list[_Node]:
        """The windows whose rows may interleave: a layer's map kept as three rows from step to step, read by its
        readers at the step that writes its new row (the top row, rewritten by the shift, is then dead between the
        readers and the next shift: `memory/dead_rows.py`)."""
        last = self.units[-1]
        return [n for n in self.nodes.values() if n.layer is not None and n is not last and n.pool is None
                and not self._step_local(n) and n.depth == 3 and len(n.shape) == 3
                and all((self._unit_of(r.op).offset - n.offset) % n.period == 0 for r in n.reads)]

    def _batch(self, node: _Node) -> int:
        """Rows of an input of the path copied at once: a reader running every `b`-th row of it (a stride-2 first
        layer) gets its `b` new rows at its own step rather than one a step, so the rows between its steps are not
        kept from step to step (of a 3x3 stride-2 window, one row is: `memory/dead_rows.py` lends the others' bytes
        to the step). All readers on one beat; at the first, every row up to the newest is copied."""
        if node.layer is None and node.reads:
            readers = {(u.period, u.offset) for u in (self._unit_of(r.op) for r in node.reads)}
            if len(readers) == 1:
                (period, offset), = readers
                batch = period // node.period
                lag = (offset - node.offset) // node.period
                if batch > 1 and (offset - node.offset) % node.period == 0 and lag < node.depth and batch <= node.depth:
                    return batch
        return 1

    def _unit_of(self, op: ir.Operation) -> _Node:
        units = self._units_by_op()
        if op not in units:
            raise AssertionError("an op of the path outside its layers")
        return units[op]

    def _units_by_op(self) -> dict:
        """Each op of the path's layers -> its unit, found once (`Layer.ops` walks the layer's block; the rewrite
        adds ops and erases the layers' only at its end)."""
        if self._unit_of_op is None:
            self._unit_of_op = {member: unit for unit in self.units for member in unit.layer.ops}
        return self._unit_of_op

    # -- the rewrite ---------------------------------------------------------------------------------------------
    def rewrite(self) -> None:
        last = self.units[-1]
        anchor = last.pool if last.pool is not None else last.layer.anchor
        with anchor.location, ir.InsertionPoint(anchor):
            index = ir.IndexType.get()
            c = {}

            def const(v: int) -> ir.Value:
                if v not in c:
                    c[v] = arith.ConstantOp(index, v).result
                return c[v]
            self._const = const
            windows = [n for n in self.nodes.values() if n is not last and not self._step_local(n)]
            path_ops = self._path_ops()
            # the element-wise op each input map of the path is computed by, to compute a row at a time (`_prologue`)
            self._prologues = {n.value: p for n in windows if n.layer is None
                               and (p := _prologue(n.value, path_ops, self.input_streamed))}
            # every window (and the pooled sums) is filled at its first row, inside the loop: a buffer the loop
            # first touches late may then share the bytes of the path's input already consumed (memory/overlap.py
            # leaves out the accesses of the steps that do not run them)
            inits = [self._empty_window(n) for n in windows]
            if last.pool is not None:  # the pooled sums accumulate over the loop
                t = ir.RankedTensorType(last.pool.results[0].type)
                inits.append(tensor.EmptyOp(t.shape, t.element_type).result if self._lazy_pool_init(last)
                             else list(last.pool.operands)[-1])
            else:
                out_type = ir.RankedTensorType(last.value.type)
                inits.append(tensor.EmptyOp(out_type.shape, out_type.element_type).result)
            loop = scf.ForOp(const(0), const(self.steps), const(1), inits)
        with anchor.location, ir.InsertionPoint(loop.body):
            step = loop.induction_variable
            state = dict(zip([n.value for n in windows] + [last.value], loop.inner_iter_args))
            for node in self.nodes.values():
                state[node.value] = self._produce(node, step, state, node is last)
                for batched in self.nodes.values():  # a batched input kept for its reader's next beat
                    if batched.batch > 1 and node.layer is not None and self._last_reader(batched) is node:
                        state[batched.value] = self._keep_for_next_beat(batched, step, state[batched.value])
            scf.YieldOp([state[n.value] for n in windows] + [state[last.value]])
        result = loop.results[len(windows)]
        old_ops = [op for layer in self.chain for op in layer.ops]
        if last.pool is not None:  # the pooling's init and epilogue stay, around the loop
            old_ops = [op for layer in self.chain[:-1] for op in layer.ops] + \
                [op for op in last.layer.ops if op.name == "tensor.pad"] + [last.pool]
        anchor.results[0].replace_all_uses_with(result)
        for op in reversed(old_ops):  # an accumulator fill CSE shares with a layer outside stays
            if all(not list(r.uses) for r in op.results):
                op.erase()
        for op in self._prologues.values():  # computed a row at a time inside the loop now
            if not list(op.results[0].uses):
                op.erase()

    def _empty_window(self, node: _Node) -> ir.Value:
        h, w, *channels = node.shape
        element = ir.RankedTensorType(node.value.type).element_type
        empty = tensor.EmptyOp([node.depth, node.columns, *channels], element)
        # named after the layer writing it (the buffer's label)
        name = node.layer.name if node.layer is not None else f"{self._unit_of(node.reads[0].op).layer.name} in"
        empty.operation.attributes[LAYER_ATTR] = ir.StringAttr.get(name)
        return empty.result

    def _first_row(self, node: _Node, window: ir.Value, row: ir.Value) -> ir.Value:
        """`window` filled with the padding value at `node`'s first row (rows before it read as padding): the map's
        columns only (a longer row's other bytes are other buffers')."""
        if node.pad_value is None:
            return window
        first = self._first_written(node)
        if node.columns == node.shape[1]:
            return self._at_row_zero(row, window, lambda: _fill(window, node.pad_value), first)
        rows = [node.depth] + node.shape[1:]
        return self._at_row_zero(row, window, lambda: _insert(_fill(_slice(window, None, node.at(0, 0), rows),
                                                                    node.pad_value), window, None, node.at(0, 0)),
                                 first)

    def _at_row_zero(self, row: ir.Value, value: ir.Value, initialized, first_row: int = 0) -> ir.Value:
        """`initialized()` (built in the branch) when `row` is `first_row`, else `value`: a buffer the loop starts
        empty."""
        first = arith.CmpIOp(arith.CmpIPredicate.eq, row, self._const(first_row)).result
        branch = scf.IfOp(first, [value.type], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            scf.YieldOp([initialized()])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([value])
        return branch.results[0]

    @staticmethod
    def _lazy_pool_init(last: _Node) -> bool:
        """Whether the pooled sums' initial value is an element-wise generic of constants, which the loop can
        compute at the pooling's first row."""
        init = defining_op(list(last.pool.operands)[-1])
        return init is not None and init.name == "linalg.generic" and len(init.results) == 1 and \
            all(defining_op(v) is not None and defining_op(v).name in ("arith.constant", "tensor.empty")
                for v in init.operands)

    def _pool_sums(self, node: _Node, sums: ir.Value, row: ir.Value) -> ir.Value:
        """The pooled sums, initialized at the pooling's first row when the loop starts them empty."""
        init = defining_op(list(node.pool.operands)[-1])
        if not self._lazy_pool_init(node):
            return sums
        operands = list(init.operands)[:num_inputs(init)] + [sums]
        return self._at_row_zero(row, sums, lambda: _clone_generic(init, operands, row).results[0])

    def _produce(self, node: _Node, step: ir.Value, state: dict, is_last: bool) -> ir.Value:
        """At `step`: if `node` produces a row now, its window shifted and the row written; the state otherwise."""
        const = self._const
        if self._step_local(node):
            return self._produce_step_local(node, step, state)
        current = state[node.value]
        cond, row = self._beat(node, step)
        branch = scf.IfOp(cond, [current.type], has_else=True)
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([current])
        with ir.InsertionPoint(branch.then_block):
            if node.pool is not None:  # the row's sums added to the pooled sums
                read = node.reads_in[0]
                operands = [self._window_slice(read, node, state)] + \
                    [_pool_operand_row(node.pool, k) for k in range(1, num_inputs(node.pool))] + \
                    [self._pool_sums(node, current, row)]
                scf.YieldOp([_clone_generic(node.pool, operands, row).results[0]])
            elif is_last:  # rows only where they exist: the last layer's output is the path's result
                new_row = self._compute_row(node, state, None, row)
                written = _insert(new_row, current, [row] + [const(0)] * (len(node.shape) - 1), None)
                scf.YieldOp([written])
            else:  # the window shifted up by the rows written now, which go at its bottom
                if node.batch > 1:
                    scf.YieldOp([self._write_batch(node, current, row, state)])
                else:
                    window = self._shift(node, self._first_row(node, current, row))
                    scf.YieldOp([self._write_row(node, window, row, node.depth - 1, state)])
        return branch.results[0]

    def _last_reader(self, node: _Node) -> _Node:
        readers = {id(self._unit_of(r.op)): self._unit_of(r.op) for r in node.reads}
        return max(readers.values(), key=self.units.index)

    def _keep_for_next_beat(self, node: _Node, step: ir.Value, window: ir.Value) -> ir.Value:
        """After its readers' beat, a batched input's rows the next beat reads again moved to the window's top (the
        rows of the batch then hold nothing until the next beat writes them: `memory/dead_rows.py` lends them)."""
        cond, _ = self._beat(node, step)
        branch = scf.IfOp(cond, [window.type], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            scf.YieldOp([self._shift(node, window)])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([window])
        return branch.results[0]

    def _write_batch(self, node: _Node, window: ir.Value, row: ir.Value, state: dict) -> ir.Value:
        """A batched input's rows up to `row` written at its reader's beat: at the first, every row up to `row`
        (the reader's first rows read more than a batch: a 3x3 stride-2 layer without top padding, rows 0..2) under
        the padding; then the batch at the window's bottom, under the rows kept from the beat before
        (`_keep_for_next_beat`)."""
        first = self._first_written(node)
        at_first = arith.CmpIOp(arith.CmpIPredicate.eq, row, self._const(first)).result
        branch = scf.IfOp(at_first, [window.type], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            written = _fill(window, node.pad_value) if node.pad_value is not None else window
            for k in range(first + 1):
                written = self._write_row(node, written, self._const(k), node.depth - 1 - first + k, state)
            scf.YieldOp([written])
        with ir.InsertionPoint(branch.else_block):
            written = window
            for j in range(node.batch):
                index = row if j == node.batch - 1 else arith.SubIOp(row, self._const(node.batch - 1 - j)).result
                written = self._write_row(node, written, index, node.depth - node.batch + j, state)
            scf.YieldOp([written])
        return branch.results[0]

    def _write_row(self, node: _Node, window: ir.Value, row: ir.Value, slot: int, state: dict) -> ir.Value:
        """Row `row` of `node` written into row `slot` of its window: computed, or copied from outside the path
        (through its element-wise prologue); the padding value (or nothing) past the map's last row."""
        inside = arith.CmpIOp(arith.CmpIPredicate.slt, row, self._const(node.height)).result
        fill = scf.IfOp(inside, [window.type], has_else=True)
        with ir.InsertionPoint(fill.then_block):
            if node.layer is None:
                new_row = self._input_row(node, row)
            else:
                new_row = self._compute_row(node, state, self._window_row(node, window, slot), row)
            scf.YieldOp([_insert(new_row, window, None, node.at(slot, 0))])
        with ir.InsertionPoint(fill.else_block):
            if node.pad_value is not None:
                padded = _fill(self._window_row(node, window, slot), node.pad_value)
                scf.YieldOp([_insert(padded, window, None, node.at(slot, 0))])
            else:
                scf.YieldOp([window])
        return fill.results[0]

    def _step_local(self, node: _Node) -> bool:
        """Whether `node`'s row is a row of the step, not a window carried from step to step: it is read only at the
        step that produces it (a depthwise layer's row, read by the 1x1 convolution after it), and the path has another
        such row to share its bytes with (alone, it would take the bytes of its window and lose the bytes of the path's
        input the window may reuse: ResNet-8 13,952 -> 14,080 B)."""
        if self._step_rows is None:
            self._step_rows = {n.value for n in self.nodes.values() if self._read_where_produced(n)}
            if len(self._step_rows) < 2:
                self._step_rows = set()
        return node.value in self._step_rows

    def _read_where_produced(self, node: _Node) -> bool:
        if node.layer is None or node is self.units[-1] or node.depth != 1 or node.pool is not None:
            return False
        return all(r.rows == 1 and r.pad_top == 0 and node.lag(self._unit_of(r.op)) == 0 and
                   (self._unit_of(r.op).height - 1) * r.stride < node.height for r in node.reads)

    def _beat(self, node: _Node, step: ir.Value) -> tuple[ir.Value, ir.Value]:
        """(whether `node` produces a row at `step`: started and on its period's beat; the row it produces then)."""
        const = self._const
        since = arith.SubIOp(step, const(node.offset)).result
        row = arith.DivSIOp(since, const(node.period)).result if node.period > 1 else since
        period, offset = (node.period, node.offset) if node.batch == 1 else self._reader_beat(node)
        started = arith.CmpIOp(arith.CmpIPredicate.sge, step, const(offset)).result
        cond = started
        if period > 1:
            phase = arith.RemSIOp(arith.SubIOp(step, const(offset)).result, const(period)).result
            on_beat = arith.CmpIOp(arith.CmpIPredicate.eq, phase, const(0)).result
            cond = arith.AndIOp(started, on_beat).result
        return cond, row

    def _reader_beat(self, node: _Node) -> tuple[int, int]:
        """(period, offset) of the layers reading `node`, on whose beat a batched input is copied."""
        reader = self._unit_of(node.reads[0].op)
        return reader.period, reader.offset

    def _first_written(self, node: _Node) -> int:
        """The row `node` writes last at its first beat: 0, or for a batched input its reader's lag."""
        return 0 if node.batch == 1 else (self._reader_beat(node)[1] - node.offset) // node.period

    def _produce_step_local(self, node: _Node, step: ir.Value, state: dict) -> ir.Value:
        """At `step`: `node`'s row if it produces one now (its readers run at the same steps), else an unwritten row."""
        cond, row = self._beat(node, step)
        inside = arith.CmpIOp(arith.CmpIPredicate.slt, row, self._const(node.height)).result
        cond = arith.AndIOp(cond, inside).result
        t = ir.RankedTensorType(node.value.type)
        row_type = ir.RankedTensorType.get([1] + node.shape[1:], t.element_type)
        # the row's buffer, written in the branch that runs (the planner gives the branches' buffers one slot, and
        # fdt-plan-memory hands the readers that view rather than the scf.if result)
        destination = tensor.EmptyOp(row_type.shape, t.element_type).result
        branch = scf.IfOp(cond, [row_type], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            scf.YieldOp([self._compute_row(node, state, destination, row)])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([destination])
        return branch.results[0]

    def _input_row(self, node: _Node, row: ir.Value) -> ir.Value:
        """Row `row` of a map the path reads from outside: a slice of it; or, when the map is computed by an
        element-wise generic only the path reads (`_prologue`: a model input's channels-last transpose or its
        scaling), that generic on the row's slice of each of its inputs, so the whole map never exists."""
        prologue = self._prologues.get(node.value)
        if prologue is None:
            return _slice(node.value, [row] + [self._const(0)] * (len(node.shape) - 1), None, [1] + node.shape[1:])
        maps = indexing_maps(prologue)
        operands = []
        for k, value in enumerate(list(prologue.operands)[:num_inputs(prologue)]):
            if not isinstance(value.type, ir.RankedTensorType) or not maps[k].results:
                operands.append(value)
                continue
            dims = [ir.AffineDimExpr(e).position for e in maps[k].results]
            operands.append(_slice(value, [row if d == 0 else self._const(0) for d in dims], None,
                                   [1 if d == 0 else node.shape[d] for d in dims]))
        t = ir.RankedTensorType(node.value.type)
        operands.append(tensor.EmptyOp([1] + node.shape[1:], t.element_type).result)
        return _clone_generic(prologue, operands, row).results[0]

    def _path_ops(self) -> set:
        return set(self._units_by_op()) | {unit.pool for unit in self.units if unit.pool is not None}

    def _shift(self, node: _Node, window: ir.Value) -> ir.Value:
        """The window's rows moved up by the rows written at a beat (the map's columns only)."""
        if node.depth == node.batch:
            return window
        kept = [node.depth - node.batch] + node.shape[1:]
        rows = _slice(window, None, node.at(node.batch, 0), kept)
        return _insert(rows, window, None, node.at(0, 0))

    def _window_row(self, node: _Node, window: ir.Value, slot: int) -> ir.Value:
        return _slice(window, None, node.at(slot, 0), [1] + node.shape[1:])

    def _compute_row(self, node: _Node, state: dict, destination: ir.Value | None, row: ir.Value) -> ir.Value:
        """Clone `node`'s layer for output row `row`, reading its inputs' windows."""
        layer = node.layer
        mapping: dict = {}
        layer_ops = layer.ops
        members = set(layer_ops)
        reads = {(r.op, r.operand): r for n in self.nodes.values() for r in n.reads if r.op in members}
        # the layer's result is written where its outs chain starts (the epilogue's empty tensor; or, for a
        # layer without epilogue, the empty tensor its accumulator's init fills): into the window's new row
        writes_result = {layer.anchor}
        outs = list(layer.anchor.operands)[-1]
        while (init := defining_op(outs)) is not None and init in members and init.name == "linalg.generic":
            writes_result.add(init)
            outs = list(init.operands)[-1]
        for op in layer_ops:
            if op.name == "tensor.pad":
                continue
            n_in = num_inputs(op)
            operands = []
            for k, value in enumerate(list(op.operands)):
                read = reads.get((op, k))
                producer = defining_op(value)
                if read is not None:
                    operands.append(self._window_slice(read, node, state))
                elif value in mapping:
                    operands.append(mapping[value])
                elif k >= n_in and producer is not None and producer.name == "tensor.empty":
                    if op in writes_result and destination is not None and value == outs:
                        operands.append(destination)
                    else:
                        t = ir.RankedTensorType(value.type)
                        operands.append(tensor.EmptyOp([1] + list(t.shape)[1:], t.element_type).result)
                else:
                    operands.append(value)
            new = _clone_generic(op, operands, row)
            mapping[op.results[0]] = new.results[0]
        return mapping[layer.anchor.results[0]]

    def _window_slice(self, read: _Read, consumer: _Node, state: dict) -> ir.Value:
        node = self.nodes[read.node]
        start = node.depth - 1 - node.lag(consumer) - read.pad_top
        assert start >= 0 and start + read.rows <= node.depth, (start, read, node.depth)
        if not (read.pad_left or read.pad_right):
            return _slice(state[node.value], None, node.at(start, 0), [read.rows, read.padded_width, *node.shape[2:]])
        # the window holds the map's columns only: pad the slice (fdt-fold-pad-into-consumer folds it; a
        # window with the padding columns stored is faster on KWS, 8.2M instead of 9.8M instructions, and
        # 25 % larger: 7,848 B instead of 6,292 B)
        rows = _slice(state[node.value], None, node.at(start, 0), [read.rows, *node.shape[1:]])
        t = ir.RankedTensorType(rows.type)
        low, high = node.at(0, read.pad_left), node.at(0, read.pad_right)
        padded = ir.RankedTensorType.get([d + a + b for d, a, b in zip(t.shape, low, high)], t.element_type)
        pad = tensor.PadOp(padded, rows, [], [], low, high)
        block = pad.regions[0].blocks.append(*[ir.IndexType.get()] * t.rank)
        with ir.InsertionPoint(block):
            tensor.YieldOp(read.pad_value)
        return pad.result


def _prologue(value: ir.Value, path_ops: set, input_streamed: bool) -> ir.Operation | None:
    """The element-wise generic computing `value` (an HxW[xC] map the path reads from outside) from the model's
    inputs and constants only (a transpose, a scaling, a QUANTIZE of the model input), when only the path reads it
    and it reads each input through a permutation of its loops: the path can compute it a row at a time. None
    otherwise: a layer's own epilogue (its requantization) would keep the layer's wider accumulator whole instead.
    Unless the input arrives a row at a time (`input_streamed`), only an op whose elements are at least as wide as
    its input's (a transpose, a scaling): a QUANTIZE's narrower map, made whole before the loop, lets the float input
    die there (micro_kws_m QDQ: 7,840 B so, 9,280 B with the float input live across the loop)."""
    op = defining_op(value)
    if op is None or op.name != "linalg.generic" or not is_all_parallel(op) or len(op.results) != 1:
        return None
    inputs = list(op.operands)[:num_inputs(op)]
    if not all(_model_input_or_constant(v) for v in inputs):
        return None
    widths = [element_bytes(ir.RankedTensorType(v.type).element_type) for v in inputs
              if isinstance(v.type, ir.RankedTensorType)]
    if not input_streamed and element_bytes(ir.RankedTensorType(value.type).element_type) < max(widths, default=0):
        return None
    if any(use.owner.operation not in path_ops for use in value.uses):
        return None
    maps = indexing_maps(op)
    rank = ir.RankedTensorType(value.type).rank
    out = maps[-1]
    if out.n_dims != rank or [getattr(e, "position", None) for e in map(_as_dim, out.results)] != list(range(rank)):
        return None
    block = op.regions[0].blocks[0]
    if list(block.arguments[num_inputs(op)].uses):
        return None  # reads its init: not element-wise over fresh values
    for k in range(num_inputs(op)):
        if maps[k].results and any(_as_dim(e) is None for e in maps[k].results):
            return None
        if isinstance(op.operands[k].type, ir.RankedTensorType) and len(maps[k].results) != \
                ir.RankedTensorType(op.operands[k].type).rank:
            return None
    return op


def _asks_for_streamed_inputs(op: ir.Operation) -> bool:
    """Whether the function holding `op` takes its inputs a row at a time (`mlir-fdt compile --stream-input`)."""
    while op is not None and op.name != "func.func":
        op = op.parent.operation if op.parent is not None else None
    return op is not None and STREAM_ATTR in op.attributes


def _model_input_or_constant(value: ir.Value) -> bool:
    """A function argument (through reshapes), a constant, or a scalar."""
    if not isinstance(value.type, ir.RankedTensorType):
        return True
    while (op := defining_op(value)) is not None and op.name in ("tensor.collapse_shape", "tensor.expand_shape"):
        value = op.operands[0]
    return op is None or op.name == "arith.constant"


def _as_dim(e: ir.AffineExpr):
    return ir.AffineDimExpr(e) if isinstance(e, ir.AffineDimExpr) else None


def _pool_operand_row(pool: ir.Operation, k: int) -> ir.Value:
    """Operand `k` of a global pooling for one input row: unchanged if it does not depend on the row; a
    shape-only `tensor.empty` (a pooling window) of one row."""
    value = pool.operands[k]
    maps = indexing_maps(pool)
    row_dim = ir.AffineDimExpr(maps[0].results[0]).position
    axes = [i for i, e in enumerate(maps[k].results) if involves_dim(e, row_dim)]
    if not axes:
        return value
    producer = defining_op(value)
    if producer is None or producer.name != "tensor.empty":
        raise FdtError(f"plan: stream: the pooling at {pool.location} reads a computed tensor per row")
    t = ir.RankedTensorType(value.type)
    return tensor.EmptyOp([1 if i in axes else d for i, d in enumerate(t.shape)], t.element_type).result


def _slice(source: ir.Value, dynamic: list | None, static: list[int] | None, sizes: list[int]) -> ir.Value:
    element = ir.RankedTensorType(source.type).element_type
    result = ir.RankedTensorType.get(sizes, element)
    if dynamic is not None:
        offsets, static_offsets = _dynamic_offsets(dynamic)
    else:
        offsets, static_offsets = [], static
    return tensor.ExtractSliceOp(result, source, offsets, [], [], static_offsets, sizes, [1] * len(sizes)).result


def _insert(source: ir.Value, dest: ir.Value, dynamic: list | None, static: list[int] | None) -> ir.Value:
    sizes = list(ir.RankedTensorType(source.type).shape)
    if dynamic is not None:
        offsets, static_offsets = _dynamic_offsets(dynamic)
    else:
        offsets, static_offsets = [], static
    return tensor.InsertSliceOp(source, dest, offsets, [], [], static_offsets, sizes, [1] * len(sizes)).result


def _dynamic_offsets(values: list[ir.Value]) -> tuple[list[ir.Value], list[int]]:
    offsets, static = [], []
    for v in values:
        op = defining_op(v)
        if op is not None and op.name == "arith.constant":
            static.append(ir.IntegerAttr(op.attributes["value"]).value)
        else:
            offsets.append(v)
            static.append(DYNAMIC)
    return offsets, static


def _fill(destination: ir.Value, value: ir.Value) -> ir.Value:
    t = ir.RankedTensorType(destination.type)
    identity = ir.AffineMap.get_identity(t.rank)
    op = linalg.GenericOp([t], [], [destination], ir.ArrayAttr.get([ir.AffineMapAttr.get(identity)]),
                          ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * t.rank))
    block = op.regions[0].blocks.append(t.element_type)
    with ir.InsertionPoint(block):
        linalg.YieldOp([value])
    return op.results[0]


def _clone_generic(op: ir.Operation, operands: list[ir.Value], row: ir.Value) -> ir.Operation:
    """`op` (a linalg.generic) on `operands`, one row of it: its result takes the type of its new init, and
    `linalg.index` of its row loop (an average pooling's count of the window inside the input, say) reads
    `row` plus the index in the slice, the position in the whole map."""
    n_in = num_inputs(op)
    clone = op.clone()
    inputs, outputs = operands[:n_in], operands[n_in:]
    new = linalg.GenericOp([v.type for v in outputs], inputs, outputs, op.attributes["indexing_maps"],
                           op.attributes["iterator_types"])
    if LAYER_ATTR in op.attributes:
        new.operation.attributes[LAYER_ATTR] = op.attributes[LAYER_ATTR]
    block = take_body(clone, new)
    clone.erase()
    row_dim = _row_loop(op)
    for body_op in [o.operation for o in block.operations]:
        if body_op.name == "linalg.index" and ir.IntegerAttr(body_op.attributes["dim"]).value == row_dim:
            with ir.InsertionPoint.after(body_op), body_op.location:
                shifted = arith.AddIOp(body_op.results[0], row)
            for use in list(body_op.results[0].uses):
                if use.owner.operation != shifted.operation:
                    use.owner.operation.operands[use.operand_number] = shifted.result
    return new.operation


def _row_loop(op: ir.Operation) -> int | None:
    """The loop of a generic that walks rows: its output's first axis, or (a global pooling) its first
    input's."""
    maps = indexing_maps(op)
    amap = maps[-1] if len(maps[-1].results) >= 2 else maps[0]
    if amap.results and isinstance(amap.results[0], ir.AffineDimExpr):
        return ir.AffineDimExpr(amap.results[0]).position
    return None


RULER = (1, 3, 7)  # row strides, in rows, of the interleaved windows of one row size


def row_strides(windows: list[_Node]) -> list[tuple[_Node, int]]:
    """Row strides (in rows of the map) of windows laid out interleaved: those of one row size, in production order,
    take 1, 3 and 7 rows, so that their rows k * stride (k = 0, 1, 2) meet only at row 0. With each window's top row
    at one address (the rows are dead there at different times of the step), the others' rows lie at 1, 2, 3, 6, 7
    and 14 rows above it, and the 4-5 and 8-13 rows between hold other buffers (the path's last map, the rows of the
    step). VWW with its input streamed: 12,960 -> 11,808 B."""
    groups: dict[tuple, list[_Node]] = {}
    for node in windows:
        t = ir.RankedTensorType(node.value.type)
        groups.setdefault((math.prod(node.shape[1:]) * element_bytes(t.element_type), str(t.element_type)),
                          []).append(node)
    return [(node, stride) for group in groups.values() if len(group) > 1 for node, stride in zip(group, RULER)]


def stream_path(chain: list[Layer]) -> StreamedPath:
    return StreamedPath(chain)
