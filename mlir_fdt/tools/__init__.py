"""Command-line tools: `mlir-fdt` (compile models) and `mlir-fdt-opt` (run passes, mlir-opt style)."""
