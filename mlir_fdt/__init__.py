"""mlir-fdt: a memory-minimising compiler for neural-network inference on microcontrollers."""

__version__ = "0.1.0"
