"""Differential fuzzing: random TOSA networks and tiling plans, compiled by mlir-fdt and checked
against IREE's default compilation of the same program; failures are shrunk into reproducers.

A case is a `CaseSpec` (spec.py): a small network description, not MLIR, so that the shrinker
can drop layers and shrink shapes and still get a valid network; emit.py renders it as TOSA
text. Every case runs in a child process (worker.py, through `mlir_fdt.child`'s long-lived children)
because MLIR can abort the process: an abort loses that case only.
"""
