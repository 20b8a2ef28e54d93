"""Random valid cases: a network of small layers, a tiling plan, a planner and an alignment.

Networks are float, int8 or int16x8, and draw the ops of real TinyML models: convolutions (plain,
depthwise, transposed), pooling and MEAN, pads and (strided) slices, resizes, reshapes, concats,
residual adds, fully connected layers (chains of them under FDT plans), embedding lookups (GATHER
with an index input), a second data input, and taps that make an intermediate tensor an output too.

Everything is drawn from one `random.Random` seeded with `"<seed>/<case>"` (string seeds are
hashed with SHA-512, so a run is reproducible across processes and Python versions). Each
drawn layer is kept only if the network still renders and parses as TOSA; shapes stay small
(maps up to 12x12, up to 16 channels) so that a case compiles in a few seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from .emit import InvalidSpec, render
from .spec import CaseSpec, LayerSpec, PlanSpec

PLANNERS = ("best", "greedy", "linear")
ALIGNMENTS = (4, 16, 64)
# of the drawn plans: channel partitions (fdt), every layer that can write over its input tiled so
# (in-place, what min-ram starts from), the rest spatial tiles (ffmt)
FDT_SHARE, IN_PLACE_SHARE, STREAM_SHARE = 0.3, 0.15, 0.2
# of the fdt draws: end the network on dense layers (a flattening one and a closing one), the
# chains FDT cuts where spatial tiles cannot: output features partitioned, partial sums after
DENSE_TAIL_SHARE = 0.5
# (kind, weight) for NHWC inputs and for flattened [1, N] inputs
KINDS_NHWC = (("conv", 4), ("dw", 3), ("residual", 2), ("concat", 1), ("avgpool", 1), ("maxpool", 1), ("pad", 1),
              ("slice", 1), ("clamp", 1), ("rescale", 1), ("reshape", 1), ("matmul_pw", 1), ("gpool", 0.5),
              ("fc", 1), ("mean", 1), ("sslice", 1), ("tconv", 1.5), ("resize", 1), ("gather", 1),
              ("add_input", 0.7), ("tap", 0.7))
KINDS_FLAT = (("fc", 2), ("clamp", 1), ("rescale", 1), ("add_input", 0.5), ("tap", 0.5))
# of the cases: float, int8, int16 activations with int8 weights (TFLite's 16x8 quantization)
DTYPE_WEIGHTS = (("f32", 0.35), ("i8", 0.4), ("i16", 0.25))
# (ny, dy), (nx, dx): output / input of a resize per dim, upsampling by 2 most often (decoders, FPNs)
RESIZE_RATIOS = (((2, 1), (2, 1)), ((2, 1), (2, 1)), ((3, 1), (3, 1)), ((2, 1), (1, 1)), ((3, 2), (3, 2)),
                 ((1, 2), (1, 2)), ((5, 3), (2, 1)))
ACTS = ("none", "relu", "relu", "relu6")
# depthwise channel multipliers: from 4 on, a stride-2 layer writes its output rows faster than
# it consumes its input's (what a shifted alias must get right)
MULTIPLIERS = (1, 1, 1, 2, 4, 8)


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    kinds, weights = zip(*table)
    return rng.choices(kinds, weights)[0]


def _pair(rng: random.Random, values: tuple[int, ...]) -> tuple[int, int]:
    """Mostly square kernels and strides, sometimes not."""
    a = rng.choice(values)
    return (a, a) if rng.random() < 0.8 else (a, rng.choice(values))


@dataclass
class LayerDrawer:
    """Draws layer descriptions; `uid`s are unique within a case (they seed the weights)."""

    rng: random.Random
    next_uid: int = 0

    def _uid(self) -> int:
        self.next_uid += 1
        return self.next_uid

    def draw(self, kind: str, keep_shape: bool = False) -> LayerSpec:
        """A `kind` layer; `keep_shape`: stride 1, same padding, same channels (residual branches)."""
        r = self.rng
        uid = self._uid()
        if kind in ("conv", "dw"):
            kernel = _pair(r, (1, 1, 2, 3, 3, 5))
            params = {"kernel": kernel, "stride": (1, 1) if keep_shape else _pair(r, (1, 1, 2)),
                      "dilation": 2 if r.random() < 0.1 else 1,
                      "padding": "same" if keep_shape else r.choice(("same", "same", "valid", "explicit")),
                      "act": r.choice(ACTS)}
            if params["padding"] == "explicit":
                params["pads"] = tuple(r.randint(0, k - 1) for k in (kernel[0], kernel[0], kernel[1], kernel[1]))
            if kind == "conv":
                params["out"] = None if keep_shape else r.randint(1, 12)
            else:
                params["mult"] = 1 if keep_shape else r.choice(MULTIPLIERS)
            return LayerSpec(kind, uid, params)
        if kind in ("avgpool", "maxpool"):
            return LayerSpec(kind, uid, {"kernel": _pair(r, (2, 2, 3)), "stride": _pair(r, (1, 2, 2)),
                                         "padding": r.choice(("valid", "same"))})
        if kind == "pad":
            pads = (0, 0, 0, 0)
            while not any(pads):
                pads = tuple(r.randint(0, 2) for _ in range(4))
            return LayerSpec(kind, uid, {"pads": pads, "value": round(r.uniform(-1, 1), 2)})
        if kind == "slice":
            sides = (0, 0, 0, 0)
            while not any(sides):
                sides = tuple(r.randint(0, 2) for _ in range(4))
            return LayerSpec(kind, uid, {"crop": sides})
        if kind == "clamp":
            act = r.choice(("relu", "relu6", "range"))
            bounds = (round(r.uniform(-1, 0), 2), round(r.uniform(0.1, 1), 2))
            return LayerSpec(kind, uid, {"act": act, "range": bounds})
        if kind == "rescale":
            return LayerSpec(kind, uid, {"factor": round(r.uniform(0.5, 2.0), 3),
                                         "rounding": r.choice(("DOUBLE_ROUND", "SINGLE_ROUND"))})
        if kind == "reshape":
            return LayerSpec(kind, uid, {"mode": r.choice(("swap_hw", "split_w", "merge_c"))})
        if kind == "matmul_pw":
            return LayerSpec(kind, uid, {"out": r.randint(1, 12), "act": r.choice(ACTS)})
        if kind == "fc":
            return LayerSpec(kind, uid, {"out": r.randint(1, 16), "via": r.choice(("conv", "matmul")),
                                         "act": r.choice(ACTS)})
        if kind == "gpool":
            return LayerSpec(kind, uid, {})
        if kind == "mean":
            return LayerSpec(kind, uid, {"axes": r.choice(("hw", "hw", "h", "w")), "keep": r.random() < 0.6})
        if kind == "sslice":
            stride = (1, 1)
            while max(stride) < 2:
                stride = (r.choice((1, 2, 2, 3)), r.choice((1, 2, 2, 3)))
            return LayerSpec(kind, uid, {"begin": (r.randint(0, 2), r.randint(0, 2)), "stride": stride})
        if kind == "tconv":
            kernel = _pair(r, (1, 2, 3, 3, 4))
            crop = (0, 0, 0, 0)
            if r.random() < 0.6:
                crop = tuple(r.randint(0, k - 1) for k in (kernel[0], kernel[0], kernel[1], kernel[1]))
            return LayerSpec(kind, uid, {"kernel": kernel, "stride": _pair(r, (1, 2, 2)), "crop": crop,
                                         "out": r.randint(1, 8), "act": r.choice(ACTS)})
        if kind == "resize":
            return LayerSpec(kind, uid, {"mode": r.choice(("nearest", "bilinear")), "ratio": r.choice(RESIZE_RATIOS),
                                         "align": r.choice(("half_pixel", "half_pixel", "none", "align_corners"))})
        if kind == "gather":
            params = {"source": r.choice(("table", "act")), "index": r.choice(("i32", "i32", "f32"))}
            if params["source"] == "table":
                params.update(vocab=r.randint(2, 40), out=r.randint(1, 8))
            else:
                params["rows"] = (r.randint(1, 6), r.randint(1, 6))
            return LayerSpec(kind, uid, params)
        if kind == "add_input":
            return LayerSpec(kind, uid, {"act": r.choice(ACTS)})
        if kind == "tap":
            return LayerSpec(kind, uid, {})
        if kind == "residual":
            branch = tuple(self.draw(r.choice(("conv", "conv", "dw", "clamp", "rescale")), keep_shape=True)
                           for _ in range(r.randint(1, 2)))
            return LayerSpec(kind, uid, {"act": r.choice(ACTS)}, (branch,))
        if kind == "concat":
            branches = tuple(tuple(self.draw(r.choice(("conv", "dw", "clamp", "rescale")), keep_shape=True)
                                   for _ in range(r.randint(0, 2))) for _ in range(2))
            return LayerSpec(kind, uid, {}, branches)
        raise ValueError(f"unknown layer kind '{kind}'")


def renders(spec: CaseSpec) -> str | None:
    """The TOSA text of `spec` if it is a valid network (shapes fit and MLIR's verifier agrees)."""
    try:
        text = render(spec)
    except InvalidSpec:
        return None
    from ..ir import ir
    try:
        ir.Module.parse(text, context=_context())
    except ir.MLIRError:
        return None
    return text


_CONTEXT: list = []  # [context, parses so far]
PARSES_PER_CONTEXT = 500


def _context():
    """One MLIR context for many validity checks: loading the dialects costs more than parsing. But
    a context keeps every constant it ever parsed, so a long run starts a fresh one now and then."""
    if not _CONTEXT or _CONTEXT[1] >= PARSES_PER_CONTEXT:
        from ..ir import new_context
        _CONTEXT[:] = [new_context(), 0]
    _CONTEXT[1] += 1
    return _CONTEXT[0]


def _with_dense_tail(spec: CaseSpec, drawer: LayerDrawer, flat: bool) -> CaseSpec:
    """`spec` ending in a dense chain: a MEAN or nothing first on a map, then two dense layers (the
    first flattens a map, so the second sums over the first's features)."""
    r = drawer.rng
    tail: tuple[LayerSpec, ...] = ()
    if not flat and r.random() < 0.3:
        tail = (drawer.draw("mean").with_params(axes="hw", keep=r.random() < 0.5),)
    tail += (drawer.draw("fc").with_params(out=r.randint(4, 16)), drawer.draw("fc"))
    candidate = replace(spec, layers=spec.layers + tail)
    return candidate if renders(candidate) is not None else spec


def generate_case(seed: int, index: int, max_layers: int = 5, method: str | None = None,
                  stream_input: bool = False) -> CaseSpec:
    """Case `index` of the run seeded `seed`: the same pair always gives the same case. With `method`
    (one of spec.PLAN_METHODS), every case gets a plan of that method. With `stream_input`, a case whose plan
    streams starts its path at the first layer reading the input and takes the input a row at a time (the same draws:
    the network is the one drawn without it)."""
    rng = random.Random(f"{seed}/{index}")
    dtype = _pick(rng, DTYPE_WEIGHTS)
    spec = CaseSpec(dtype=dtype, input_shape=(rng.randint(2, 12), rng.randint(2, 12), rng.randint(1, 8)),
                    input_zp=rng.randint(-128, 127) if dtype == "i8" else 0, layers=(),
                    weight_seed=rng.randrange(1 << 31), planner=rng.choice(PLANNERS),
                    alignment=rng.choice(ALIGNMENTS), input_seed=rng.randrange(1 << 31))
    drawer = LayerDrawer(rng)
    flat = False
    for _ in range(rng.randint(1, max_layers)):
        for _attempt in range(20):
            kinds = KINDS_FLAT if flat else KINDS_NHWC
            if dtype == "f32":  # float networks have no requantization
                kinds = tuple((k, w) for k, w in kinds if k != "rescale")
            if dtype == "i16":  # TOSA's matmul has no int16 x int8 form
                kinds = tuple((k, w) for k, w in kinds if k != "matmul_pw")
            layer = drawer.draw(_pick(rng, kinds))
            candidate = replace(spec, layers=spec.layers + (layer,))
            if renders(candidate) is not None:
                spec = candidate
                flat = flat or layer.kind == "fc" or (layer.kind == "mean" and layer.params["axes"] == "hw"
                                                      and not layer.params["keep"])
                break
    if not spec.layers:  # nothing fitted (cannot happen for inputs >= 2x2: a 1x1 conv always does)
        spec = replace(spec, layers=(LayerSpec("conv", drawer._uid(), {"kernel": (1, 1), "stride": (1, 1),
                                                                       "padding": "valid", "out": 2}),))
    if method is not None or rng.random() < 0.7:
        tiles = (rng.randint(1, 4), rng.randint(1, 4))
        plan = PlanSpec(rng.randrange(100), rng.randint(1, 4), tiles)
        draw = rng.random()
        if method is not None:  # the share of each method, in the order drawn below
            draw = {"fdt": 0.0, "in-place": FDT_SHARE, "stream": FDT_SHARE + IN_PLACE_SHARE, "ffmt": 1.0}[method]
        if draw < FDT_SHARE:
            plan = replace(plan, method="fdt", partitions=rng.choice((2, 3, 4, 8, 64)))
            if rng.random() < DENSE_TAIL_SHARE:
                spec = _with_dense_tail(spec, drawer, flat)
        elif draw < FDT_SHARE + IN_PLACE_SHARE:
            plan = replace(plan, method="in-place")
            if not flat:  # end on a depthwise and a 1x1 layer that keep the shape: both can go in place
                tail = (drawer.draw("dw", keep_shape=True), drawer.draw("conv", keep_shape=True).with_params(
                    kernel=(1, 1)))
                candidate = replace(spec, layers=spec.layers + tail)
                if renders(candidate) is not None:
                    spec = candidate
        elif draw < FDT_SHARE + IN_PLACE_SHARE + STREAM_SHARE:
            plan = replace(plan, method="stream", length=rng.randint(2, 6))
            if not flat:  # end on two windowed layers (strides, padding as drawn): something to stream
                candidate = replace(spec, layers=spec.layers + (drawer.draw("conv"), drawer.draw("dw")))
                if renders(candidate) is not None:
                    spec = candidate
            plan = replace(plan, interleave=rng.random() < 0.5)  # windows' rows interleaved (stream_rows.py)
        spec = replace(spec, plan=plan)
        if stream_input and plan.method == "stream":
            # the path starts at the input (fuzz/plans.py): first two layers that read maps by rows, a windowed one
            # as drawn then a shape-keeping depthwise one (drawn last: the rest is the network drawn without them)
            for kind in ("conv", "dw", "conv", "dw"):
                head = (drawer.draw(kind), drawer.draw("dw", keep_shape=True))
                candidate = replace(spec, layers=head + spec.layers)
                if renders(candidate) is not None:
                    spec = candidate
                    break
            spec = replace(spec, stream_input=True)
    return spec
