"""The CMake cache variables that choose how the runner gets its model (cmake/FdtModelFormat.cmake).

`static` links iree-compile's static library object; `embedded-elf` stores IREE's embedded ELF
in flash and loads it into a RAM buffer at start-up. That buffer is a static array, so its size
and alignment are measured here, from the ELF, and handed to the build.
"""

from __future__ import annotations

from pathlib import Path

from ..codegen.elf_image import read_elf_image
from ..codegen.library import OUTPUT_FORMATS as MODEL_FORMATS
from ..errors import FdtError


def check_model_format(model_format: str) -> str:
    if model_format not in MODEL_FORMATS:
        raise FdtError(f"unknown model format '{model_format}'; choose {' or '.join(MODEL_FORMATS)}")
    return model_format


def model_cache_variables(model: str | Path, model_format: str = "static") -> list[str]:
    """`-D` options naming the model for the runner's CMake build.

    `model` is the static library object or the embedded ELF. The ELF's path is pasted into an
    assembler `.incbin "..."`, so characters that would end that string are refused here.
    """
    path = Path(model).resolve()
    if check_model_format(model_format) == "static":
        return ["-DFDT_MODEL_FORMAT=static", f"-DFDT_MODEL_OBJECT={path}"]
    if any(c in str(path) for c in '"\\\n;'):
        raise FdtError(f"the embedded ELF's path {str(path)!r} contains a quote, backslash, newline or ';' "
                       "(it is pasted into an assembler .incbin and a CMake list)")
    image = read_elf_image(path)
    return ["-DFDT_MODEL_FORMAT=embedded-elf", f"-DFDT_MODEL_ELF={path}",
            f"-DFDT_MODEL_ELF_LOAD_BYTES={image.ram_bytes}", f"-DFDT_MODEL_ELF_LOAD_ALIGN={image.load_align}"]
