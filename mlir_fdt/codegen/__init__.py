"""Codegen stage: the planned memref program becomes an IREE executable, compiled by iree-compile."""
