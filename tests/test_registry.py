"""The pass registry (mlir_fdt/transforms/__init__.py): every key names the pass it loads."""

from __future__ import annotations

from mlir_fdt.passes import get_all_passes


def test_registry_keys_are_the_pass_names():
    for key, load in get_all_passes().items():
        cls = load()
        assert cls.name == key, (key, cls)
        assert cls.summary, key
