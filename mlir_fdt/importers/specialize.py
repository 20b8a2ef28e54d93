"""Specialise dynamic dimensions of the entry function (the batch, `tensor<?x...>`) to 1."""

from __future__ import annotations

from ..errors import FdtError
from ..ir import entry_function, ir, run_pipeline, tensor


def _static(t: ir.Type) -> ir.Type:
    if not isinstance(t, ir.RankedTensorType):
        return t
    t = ir.RankedTensorType(t)
    dyn = ir.ShapedType.get_dynamic_size()
    return ir.RankedTensorType.get([1 if d == dyn else d for d in t.shape], t.element_type)


def specialize_dynamic_dims(module: ir.Module) -> None:
    """Give every dynamic dim of the entry signature size 1 and let canonicalization propagate it."""
    with module.context, ir.Location.unknown():
        fn = entry_function(module)
        entry = fn.regions[0].blocks[0]
        inputs = []
        for arg in entry.arguments:
            dyn_type, st = arg.type, _static(arg.type)
            inputs.append(st)
            if st == dyn_type:
                continue
            arg.set_type(st)
            with ir.InsertionPoint.at_block_begin(entry):
                cast = tensor.CastOp(dyn_type, arg)
            arg.replace_all_uses_except(cast.result, cast.operation)
        ret = entry.operations[len(entry.operations) - 1]
        outputs = []
        for i, v in enumerate(ret.operands):
            st = _static(v.type)
            outputs.append(st)
            if st != v.type:
                with ir.InsertionPoint(ret):
                    ret.operands[i] = tensor.CastOp(st, v).result
        fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(inputs, outputs))
    run_pipeline(module, "builtin.module(canonicalize,cse,canonicalize)")
    text = str(fn.type)
    if "?" in text:
        raise FdtError(f"the model's signature still has dynamic dimensions after specialisation: {text}")
