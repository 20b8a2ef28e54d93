"""lit configuration: `mlir-fdt-opt` and `filecheck` from the environment running lit."""

import os
import shutil
import sys

import lit.formats

config.name = "mlir-fdt"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit.cfg.py", "lit.local.cfg", "Inputs"]

bin_dir = os.path.dirname(sys.executable)
repo = os.path.dirname(config.test_source_root)


def tool(name):
    local = os.path.join(bin_dir, name)
    return local if os.path.exists(local) else (shutil.which(name) or name)


config.substitutions.append(("%repo", repo))
config.substitutions.append(("%models", os.path.join(os.path.dirname(repo), "shared", "models")))
config.substitutions.append(("mlir-fdt-opt", tool("mlir-fdt-opt")))
config.substitutions.append(("mlir-fdt ", tool("mlir-fdt") + " "))
config.substitutions.append(("filecheck", tool("filecheck")))
config.environment["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

if shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc"):
    config.available_features.add("qemu")
if os.path.isdir(os.path.join(os.path.dirname(repo), "shared", "models")):
    config.available_features.add("shared-models")
