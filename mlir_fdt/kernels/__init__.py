"""Kernel stage: the planned memref program's hot loops rewritten into the instruction patterns a
Cortex-M executes fastest, before IREE lowers them to LLVM. Runs after the memory plan (it adds no
buffer: every value it introduces lives in registers)."""
