"""Transform scripts: the named-sequence libraries shipped with the package (`library/*.mlir`) and
`TransformScript`, which merges the libraries it calls into a script, builds its entry sequence with
the transform dialect's Python builders and applies it to a payload."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..errors import FdtError
from ..ir import ir, transform_interpreter
from iree.compiler.dialects import transform
from iree.compiler.dialects.transform import structured

LIBRARY_DIR = Path(__file__).resolve().parent / "library"  # package data: found from an installed wheel too


def library_path(name: str) -> Path:
    return LIBRARY_DIR / f"{name}.mlir"


class TransformScript:
    """The named sequences of `libraries` (`library/<name>.mlir`) and a `__transform_main(%root)` built
    op by op; `apply` runs it on the payload with the interpreter.

        script = TransformScript(ctx, ["fdt_tiling"])
        a = script.match_attribute("fdt.anchor", 0)
        script.include("fdt_fuse_producers", [a, ...], results=1)
        script.apply(payload)
    """

    def __init__(self, context: ir.Context, libraries: list[str]):
        with context, ir.Location.unknown():
            self.any_op = transform.AnyOpType.get()
            self.module = ir.Module.create()
            self.module.operation.attributes["transform.with_named_sequence"] = ir.UnitAttr.get()
            for name in libraries:  # first: merging verifies the script, whose includes need their callees
                path = library_path(name)
                try:
                    library = ir.Module.parse(path.read_text())
                except (OSError, ir.MLIRError) as e:
                    raise FdtError(f"{path}: cannot load the transform library: {e}") from None
                transform_interpreter.copy_symbols_and_merge_into(self.module.operation, library.operation)
            with ir.InsertionPoint(self.module.body):
                self.entry = transform.NamedSequenceOp("__transform_main", [self.any_op], [],
                                                       arg_attrs=[{"transform.readonly": ir.UnitAttr.get()}])
            self.root = self.entry.body.arguments[0]
        self.context = context

    @contextlib.contextmanager
    def _building(self):
        """Where each builder adds its op: at the end of `__transform_main`."""
        with self.context, ir.Location.unknown(), ir.InsertionPoint(self.entry.body):
            yield

    def match_attribute(self, name: str, value: int) -> ir.Value:
        """The payload ops carrying the i64 attribute `name = value`."""
        with self._building():
            attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), value)
            return structured.MatchOp(self.any_op, self.root, op_attrs={name: attr}).result

    def match_ops(self, names: list[str]) -> ir.Value:
        with self._building():
            return structured.MatchOp(self.any_op, self.root, ops=names).result

    def param(self, value: int) -> ir.Value:
        """An i64 transform parameter."""
        with self._building():
            i64 = ir.IntegerType.get_signless(64)
            return transform.ParamConstantOp(transform.ParamType.get(i64), ir.IntegerAttr.get(i64, value)).result

    def include(self, sequence: str, operands: list[ir.Value], results: int = 0) -> list[ir.Value]:
        """Call a library's named sequence, propagating its failures."""
        with self._building():
            op = transform.IncludeOp([self.any_op] * results, sequence, transform.FailurePropagationMode.Propagate,
                                     operands)
            return list(op.results)

    def tile_using_for(self, target: ir.Value, sizes: list[int]) -> tuple[ir.Value, list[ir.Value]]:
        """Tile `target` by `sizes` (0: not tiled): (tiled op, one loop a tiled dimension)."""
        with self._building():
            op = structured.TileUsingForOp(target, sizes=sizes)
            return op.tiled_linalg_op, list(op.loops)

    def apply(self, payload: ir.Module) -> None:
        with self._building():
            transform.YieldOp([])
        with self.context:
            try:
                transform_interpreter.apply_named_sequence(payload.operation, self.entry.operation, self.module)
            except (ir.MLIRError, ValueError) as e:  # the interpreter raises ValueError with diagnostics
                raise FdtError(f"transform script failed: {e}") from None
