"""ONNX -> torch dialect (IREE's ONNX importer, in process) -> linalg on tensors (torch-mlir's pipelines).

The model is read and checked with the `onnx` package first (onnx_model.py), so that a truncated file,
missing external weights, an operator ONNX does not define or a dynamic dimension other than the batch
is refused naming the node and its operator, before any MLIR exists. IREE's importer then writes one
`torch.operator "onnx.<Op>"` per node, located at the node's name; torch-mlir's
`torch-onnx-to-torch-backend-pipeline` turns them into torch ops and
`torch-backend-to-linalg-on-tensors-backend-pipeline` into the linalg, arith, tensor and math ops the
TFLite path reaches. An operator the conversion does not know (or not with these attributes and
types) is refused by its node name. Before import, a quantized (QDQ) model's convolutions and matrix
products become integer convolutions (onnx_qdq.py) and the dequantization of its constants is folded
(onnx_dequantize.py); the onnxruntime reference reads the model file afresh, as written.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ..diagnostics import one_line
from ..errors import FdtError
from ..ir import ir, run_pipeline, walk_ops
from ..transforms.fuse_elementwise import FuseElementwiseChains
from .onnx_average_pool import explicit_average_pool_padding
from .onnx_channels_last import channels_last
from .onnx_dequantize import fold_constant_dequantize
from .onnx_model import OnnxModel, check_ignored_attributes, check_shape_inputs, check_uint8_io, read_onnx
from .onnx_qdq import rewrite_code_preserving, rewrite_qdq_layers
from .onnx_qlinear_matmul import split_batched_qlinear_matmuls
from .onnx_requantize import integer_requantization
from .specialize import specialize_dynamic_dims

TO_TORCH = "builtin.module(torch-onnx-to-torch-backend-pipeline)"
TO_LINALG = "builtin.module(torch-backend-to-linalg-on-tensors-backend-pipeline)"
_NAME_LOC = re.compile(r'loc\("([^"]*)"')
log = logging.getLogger(__name__)


def _import_torch(model: OnnxModel, context: ir.Context) -> ir.Module:
    """IREE's ONNX importer (`iree-import-onnx`'s library) on the checked model, in `context`."""
    from iree.compiler.extras import onnx_importer  # the importer half of `iree-import-onnx`

    info = onnx_importer.ModelInfo(model.proto)
    module = info.create_module(context=context)
    try:
        onnx_importer.NodeImporter.define_function(info.main_graph, module.operation).import_all()
    except onnx_importer.OnnxImportError as e:
        raise FdtError(f"{model.path}: IREE's ONNX importer rejects the model: {e}") from None
    return module


def _node_named(model: OnnxModel, location: str) -> str | None:
    """`node 'NAME' (OpType)` for a name location of the importer (the node's name), else None."""
    m = _NAME_LOC.search(location)
    node = model.node(m[1]) if m else None
    return f"node '{node.name}' ({node.op_type})" if node is not None else None


def _conversion_error(model: OnnxModel, error: ir.MLIRError, stage: str) -> FdtError:
    """An error of torch-mlir's pipelines, naming the ONNX node it stopped at. An operator it does not
    convert (with these attributes or types) is "failed to legalize operation 'torch.operator'", whose
    generic form repeats the node; the node's name and operator say it in a line."""
    diagnostics = list(error.error_diagnostics)
    where = _node_named(model, str(diagnostics[0].location)) if diagnostics else None
    if where is None:
        return FdtError(f"{one_line(error, str(model.path))} ({stage})")
    message = " ".join(diagnostics[0].message.split())
    if "failed to legalize operation 'torch.operator'" in message:
        message = "torch-mlir's ONNX conversion does not lower this operator with these attributes and types"
    return FdtError(f"{model.path}: {where}: {message} ({stage})")


def _unconverted(model: OnnxModel, module: ir.Module) -> None:
    """Refuse the nodes torch-mlir's ONNX conversion left as `onnx.*` operators."""
    left = [op for op in walk_ops(module.operation) if op.name == "torch.operator"]
    if not left:
        return
    names = [_node_named(model, str(op.location)) or op.name for op in left]
    raise FdtError(f"{model.path}: {names[0]}: torch-mlir's ONNX conversion does not lower this operator"
                   + (f" (and {len(names) - 1} more nodes)" if len(names) > 1 else ""))


def _warn_uint8_activations(model: OnnxModel) -> None:
    """A QDQ model quantized with uint8 activations compiles, but torch-mlir runs it in float32 between the fake
    quantizations (four times the bytes): say so, and what to quantize with instead."""
    from onnx import TensorProto
    for node in model.proto.graph.node:
        zero = model.initializer(node.input[2]) if node.op_type == "QuantizeLinear" and len(node.input) > 2 else None
        if zero is not None and zero.data_type == TensorProto.UINT8:
            log.warning("%s: node '%s' (QuantizeLinear) quantizes to uint8: a QDQ model with uint8 activations runs "
                        "in float32 between its Q/DQ pairs; quantize with int8 activations (onnxruntime's "
                        "quantize_static(..., activation_type=QuantType.QInt8)) for an integer program",
                        model.path, node.name)
            return


def import_onnx(path: Path, context: ir.Context) -> ir.Module:
    """The model as linalg on tensors (batch 1, static shapes)."""
    model = read_onnx(path)
    check_uint8_io(model)
    check_shape_inputs(model)
    check_ignored_attributes(model)
    _warn_uint8_activations(model)
    # the reference reads the model afresh, as written
    explicit_average_pool_padding(model.proto)
    split_batched_qlinear_matmuls(model.proto)
    rewrite_qdq_layers(model.proto)
    rewrite_code_preserving(model.proto)
    fold_constant_dequantize(model.proto)
    with context:
        module = _import_torch(model, context)
        try:
            run_pipeline(module, TO_TORCH)
        except ir.MLIRError as e:
            raise _conversion_error(model, e, "torch-mlir's ONNX to torch conversion") from None
        _unconverted(model, module)
        try:
            run_pipeline(module, TO_LINALG)
        except ir.MLIRError as e:
            raise _conversion_error(model, e, "torch-mlir's torch to linalg lowering") from None
        channels_last(module)
        FuseElementwiseChains().apply(module)  # each requantization in one body; transposes folded
        if integer_requantization(module):
            FuseElementwiseChains().apply(module)  # drops the float multiplier tables no body reads now
    specialize_dynamic_dims(module)
    run_pipeline(module, "builtin.module(strip-debuginfo)")
    return module
