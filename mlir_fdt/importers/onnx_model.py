"""Read and check an ONNX model before it meets MLIR: every refusal names the node and its operator.

What is checked, in order, and why here: the file parses (a truncated file fails in protobuf with a
message naming no part of the model); external weights are where the model says (otherwise `onnx`
raises a bare FileNotFoundError); every operator is one ONNX defines at the model's opset (a custom
domain's operator belongs to another runtime); the batch dimension, when symbolic, becomes 1 and any
other symbolic dimension is refused naming the input (mlir-fdt plans static buffers); ONNX's own
checker and strict shape inference pass, naming the node they stop at (an ill-typed model such as an
int8 `Gemm` is not ONNX, and onnxruntime refuses it too). Models older than opset 16 are upgraded
with ONNX's version converter: torch-mlir's conversion patterns start at the opsets in use today, some
later than others (BatchNormalization at 15, GreaterOrEqual at 16: a PyTorch export at opset 9 to 14
with a BatchNormalization did not import).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FdtError

MIN_OPSET = 16
STANDARD_DOMAINS = ("", "ai.onnx")
_NODE_IN_MESSAGE = re.compile(r"op_type:\s*(?P<op>[\w.]+),\s*node name:\s*(?P<node>[^)]*)\)")


@dataclass(frozen=True)
class OnnxTensor:
    """A graph input or output as the model declares it."""

    name: str
    shape: list[int]
    dtype: str

    def to_json(self) -> dict:
        return {"name": self.name}


@dataclass
class OnnxModel:
    path: Path
    proto: object                    # onnx.ModelProto, checked, batch 1, static shapes, opset >= MIN_OPSET
    original_opset: int
    inputs: list[OnnxTensor] = field(default_factory=list)
    outputs: list[OnnxTensor] = field(default_factory=list)

    def node(self, name: str):
        """The node called `name`, or None."""
        return next((n for n in self.proto.graph.node if n.name == name), None)

    def consumers(self, value: str) -> list:
        return [n for n in self.proto.graph.node if value in n.input]

    def initializer(self, name: str):
        return next((t for t in self.proto.graph.initializer if t.name == name), None)

    def serialized(self) -> bytes:
        return self.proto.SerializeToString()

    def output_steps(self) -> list[float | None]:
        """Per output, the scale of the DequantizeLinear (per tensor) that produces it: the step of a QDQ
        model's quantized result; 1 for the codes a QuantizeLinear writes; None for float arithmetic."""
        from onnx import numpy_helper
        steps: list[float | None] = []
        for t in self.outputs:
            node = next((n for n in self.proto.graph.node if t.name in n.output), None)
            if node is not None and node.op_type == "QuantizeLinear":
                steps.append(1.0)
                continue
            scale = self.initializer(node.input[1]) if node is not None and node.op_type == "DequantizeLinear" else None
            value = numpy_helper.to_array(scale) if scale is not None else None
            steps.append(float(value.reshape(())) if value is not None and value.size == 1 else None)
        return steps


def _onnx():
    import onnx
    return onnx


def _load(path: Path):
    onnx = _onnx()
    from google.protobuf.message import DecodeError
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise FdtError(f"{path}: not a readable ONNX model (truncated or not ONNX?): {e}") from None
    if not proto.graph.node:
        raise FdtError(f"{path}: not a readable ONNX model (truncated or not ONNX?): the graph has no nodes")
    return proto


def _users(proto, tensor: str) -> str:
    users = [n for n in proto.graph.node if tensor in n.input]
    return f"node '{users[0].name}' ({users[0].op_type})" if users else "no node"


def _load_external_data(proto, path: Path) -> None:
    """Read external weights from beside the model; a missing or short file names the initializer and the
    node that uses it."""
    onnx = _onnx()
    for t in proto.graph.initializer:
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        where = path.parent / info.get("location", "")
        if not info.get("location") or not where.is_file():
            raise FdtError(f"{path}: {_users(proto, t.name)}: its weights '{t.name}' are stored outside the model, "
                           f"in '{info.get('location', '?')}', which is not beside it ({where})")
        needed = int(info.get("offset", 0)) + int(info.get("length", 0))
        if where.stat().st_size < needed:
            raise FdtError(f"{path}: {_users(proto, t.name)}: external weights '{t.name}' need {needed} bytes of "
                           f"'{where.name}', which has {where.stat().st_size} (truncated?)")
    onnx.load_external_data_for_model(proto, str(path.parent))


def _opset(proto) -> int:
    return max((o.version for o in proto.opset_import if o.domain in STANDARD_DOMAINS), default=1)


def _check_operators(proto, path: Path, opset: int) -> None:
    onnx = _onnx()
    for n in proto.graph.node:
        if n.domain not in STANDARD_DOMAINS:
            raise FdtError(f"{path}: node '{n.name}' ({n.domain}.{n.op_type}): an operator of domain '{n.domain}', "
                           "not of ONNX (its kernel belongs to another runtime)")
        try:
            onnx.defs.get_schema(n.op_type, opset, "")
        except onnx.defs.SchemaError:
            raise FdtError(f"{path}: node '{n.name}' ({n.op_type}): ONNX defines no operator '{n.op_type}' "
                           f"at opset {opset}") from None


def _static_signature(proto, path: Path) -> None:
    """Symbolic batch dimensions (dimension 0) of inputs and outputs become 1; any other is refused."""
    graph = proto.graph
    for kind, values in (("input", graph.input), ("output", graph.output)):
        for v in values:
            if not v.type.HasField("tensor_type"):
                raise FdtError(f"{path}: {kind} '{v.name}' is not a tensor (sequences and maps are not supported)")
            if not v.type.tensor_type.HasField("shape"):
                raise FdtError(f"{path}: {kind} '{v.name}' has no shape ({_users(proto, v.name)}); mlir-fdt "
                               "compiles static shapes")
            for i, d in enumerate(v.type.tensor_type.shape.dim):
                if d.HasField("dim_value"):
                    continue
                if i == 0:
                    d.dim_value = 1  # the batch: one inference at a time
                    continue
                what = f"'{d.dim_param}'" if d.dim_param else "unknown"
                first = _users(proto, v.name) if kind == "input" else "the graph's result"
                raise FdtError(f"{path}: {kind} '{v.name}' (to {first}) has a dynamic dimension {i} ({what}); "
                               "mlir-fdt compiles static shapes: only the batch (dimension 0) is set to 1")


# operands that give an operator its output's shape (or axes): a graph input there makes the program's shapes
# depend on run-time values
SHAPE_OPERANDS = {"Slice": (1, 2, 3, 4), "Reshape": (1,), "Expand": (1,), "Tile": (1,), "Pad": (1, 3),
                  "Resize": (1, 2, 3), "Upsample": (1,), "ConstantOfShape": (0,), "Range": (0, 1, 2),
                  "Squeeze": (1,), "Unsqueeze": (1,), "Split": (1,), "TopK": (1,), "OneHot": (1,), "CumSum": (1,),
                  **{r: (1,) for r in ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2",
                                       "ReduceL1", "ReduceLogSumExp", "ReduceSumSquare")}}


def value_shapes(proto) -> dict[str, list[int]]:
    """The dims of every graph input, output, inferred value and initializer of `proto`, by name (0: unknown)."""
    found = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
             for v in [*proto.graph.input, *proto.graph.value_info, *proto.graph.output]}
    found.update({t.name: list(t.dims) for t in proto.graph.initializer})
    return found


def check_shape_inputs(model: OnnxModel) -> None:
    """Refuse a graph input used as an operand that gives a node its output's shape or axes (SHAPE_OPERANDS),
    naming both: mlir-fdt compiles static shapes."""
    inputs = {t.name for t in model.inputs if 0 not in t.shape}  # an empty one holds no value to vary
    for k, node in enumerate(model.proto.graph.node):
        for i in SHAPE_OPERANDS.get(node.op_type, ()):
            if i < len(node.input) and node.input[i] in inputs:
                raise FdtError(f"{model.path}: input '{node.input[i]}' is operand {i} of node {_node(node, k)}, "
                               "which gives its output's shape or axes: mlir-fdt compiles static shapes (store it "
                               "in the model as an initializer)")


# (operator, attribute, value) that torch-mlir's conversion ignores, computing another operator
IGNORED_ATTRIBUTES = {("SpaceToDepth", "mode", b"CRD"): "SpaceToDepth in CRD mode (torch-mlir computes DCR's order)"}


def check_ignored_attributes(model: OnnxModel) -> None:
    """Refuse a node whose attribute torch-mlir would ignore (IGNORED_ATTRIBUTES), naming it."""
    import onnx
    for k, node in enumerate(model.proto.graph.node):
        for a in node.attribute:
            value = onnx.helper.get_attribute_value(a)
            reason = IGNORED_ATTRIBUTES.get((node.op_type, a.name, value if isinstance(value, (bytes, int)) else None))
            if reason:
                raise FdtError(f"{model.path}: node {_node(node, k)}: {reason}, which mlir-fdt does not compile")


# the nodes whose uint8 operands torch-mlir reads as unsigned values (a quantized operator's zero point, a
# conversion); any other reads them as signed int8 (MaxPool compared 200 below 100)
UINT8_READERS = ("DequantizeLinear", "QLinearConv", "QLinearMatMul", "Cast")
UINT8_WRITERS = ("QuantizeLinear", "QLinearConv", "QLinearMatMul", "Cast")


def _node(node, index: int) -> str:
    """`'conv1' (Conv)`, or `#3 (Conv)` for a node without a name (its index in the graph)."""
    return f"'{node.name}' ({node.op_type})" if node.name else f"#{index} ({node.op_type})"


def check_uint8_io(model: OnnxModel) -> None:
    """Refuse a uint8 graph input read, or a uint8 graph output written, by a node other than UINT8_READERS /
    UINT8_WRITERS, naming the input or output and the node."""
    for kind, values, allowed, role in (("input", model.inputs, UINT8_READERS, "reads"),
                                        ("output", model.outputs, UINT8_WRITERS, "writes")):
        for t in (t for t in values if t.dtype == "uint8"):
            for k, node in enumerate(model.proto.graph.node):
                if t.name in getattr(node, kind) and node.op_type not in allowed:
                    raise FdtError(f"{model.path}: {kind} '{t.name}' is uint8 and node {_node(node, k)} {role} it, "
                                   f"which torch-mlir does as signed int8: uint8 {kind}s are compiled when "
                                   f"{', '.join(allowed)} {role[:-1]} them")


def _checker_message(path: Path, error: Exception) -> FdtError:
    """ONNX's checker/shape-inference error as one line naming the node it stopped at."""
    text = " ".join(str(error).split())
    m = _NODE_IN_MESSAGE.search(text)
    if m:
        reason = re.sub(r"\[\w+\]\s*", "", text[m.end():]).strip(" :") or text
        return FdtError(f"{path}: node '{m['node'].strip()}' ({m['op']}): not valid ONNX: {reason}")
    return FdtError(f"{path}: not valid ONNX: {text}")


def _upgrade(proto, path: Path, opset: int):
    """Opset `opset` < MIN_OPSET converted to MIN_OPSET by ONNX's version converter (through opset 6 first:
    from opset 1, the converter needs the shapes that inference finds only once Reshape takes its shape as an
    input)."""
    onnx = _onnx()
    from .onnx_legacy import align_legacy_broadcasts
    try:
        if opset < 6:
            proto = onnx.version_converter.convert_version(proto, 6)
        if opset < 7:
            del proto.graph.value_info[:]
            proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
            align_legacy_broadcasts(proto)
        proto = onnx.version_converter.convert_version(proto, MIN_OPSET)
    except Exception as e:  # the converter raises RuntimeError/ValueError from C++ asserts
        raise FdtError(f"{path}: opset {opset} model: ONNX's version converter cannot bring it to opset "
                       f"{MIN_OPSET}: {' '.join(str(e).split())}") from None
    del proto.graph.value_info[:]
    return proto


def _declared(values, proto) -> list[OnnxTensor]:
    onnx = _onnx()
    out = []
    for v in values:
        tt = v.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name if tt.elem_type else "?"
        out.append(OnnxTensor(v.name, [d.dim_value for d in tt.shape.dim], dtype))
    return out


def read_onnx(path: Path) -> OnnxModel:
    """The model at `path`, checked, with batch 1, at opset >= MIN_OPSET, shapes inferred; FdtError naming the node
    and operator otherwise."""
    onnx = _onnx()
    proto = _load(path)
    _load_external_data(proto, path)
    opset = _opset(proto)
    _check_operators(proto, path, opset)
    _static_signature(proto, path)
    if opset < MIN_OPSET:
        proto = _upgrade(proto, path, opset)
        _static_signature(proto, path)  # the converter gives a graph output the symbolic batch of its value_info
    # initializers are weights, not inputs, as from IR version 4: before it every initializer was listed as an
    # input too, and the version converter adds initializers (Pad's pads from opset 11) without listing them
    weights = {t.name for t in proto.graph.initializer}
    if weights:
        kept = [i for i in proto.graph.input if i.name not in weights]
        del proto.graph.input[:]
        proto.graph.input.extend(kept)
        proto.ir_version = max(proto.ir_version, 4)
    try:
        onnx.checker.check_model(proto, full_check=True)  # strict shape and type inference
        proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise _checker_message(path, e) from None
    return OnnxModel(path, proto, opset, _declared(proto.graph.input, proto), _declared(proto.graph.output, proto))
