"""Differential fuzzing: random TOSA networks and tiling plans, compiled by mlir-fdt and checked
against IREE's default compilation of the same program; failures are shrunk into reproducers.

A case is a `CaseSpec` (spec.py): a small network description, not MLIR, so that the shrinker
can drop layers and shrink shapes and still get a valid network; emit.py renders it as TOSA
text. Every case runs in its own process (worker.py) because MLIR can abort the process.
"""
