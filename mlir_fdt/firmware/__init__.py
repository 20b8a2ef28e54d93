"""Bare-metal firmware: link a model object with a small runner and measure it under QEMU.

The runner (`runner/`) calls the model's single IREE dispatch directly through our own
declarations of IREE's executable-library ABI, on QEMU's mps2-an386 (Cortex-M4), and reports
the arena size, the stack high-water mark and the instruction count of that one call.
`build.py` holds the command lines and the build-and-run helpers.
"""
