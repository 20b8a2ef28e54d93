"""Transform stage: passes on linalg, one per file (registered by name in `mlir_fdt.passes`)."""
