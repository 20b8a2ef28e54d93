"""A PyTorch model into mlir-fdt: train, export to ONNX, quantize to int8 QDQ, compile for a Cortex-M4.

The flow, one function a step:

1. `train`: a small CNN (two Conv2d+ReLU+MaxPool2d, then a Linear) learns, in a few seconds, to tell apart
   10 synthetic 28x28 "digits" (a fixed noisy pattern per class, made from a fixed seed: nothing is
   downloaded), so its weights are trained weights, not random noise.
2. `export_onnx`: `torch.onnx.export` (the TorchScript exporter, `dynamo=False`: it needs no package
   beyond torch) writes the float model, opset 13, batch 1.
3. `quantize_qdq`: onnxruntime's `quantize_static` writes an int8 QDQ model (int8 activations and weights,
   per-channel weights), calibrated on a few seeded samples of the same synthetic data.
4. `compile_and_run`: mlir-fdt compiles each model for cortex-m4 and runs it (under QEMU by default, or on
   the host) on random inputs, comparing the outputs with onnxruntime.

    python examples/pytorch/small_cnn.py --out /tmp/pytorch-cnn [--run qemu|host]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn

from mlir_fdt.compiler import CompileOptions, compile_model

SEED = 0
CLASSES = 10
SHAPE = (1, 28, 28)  # channels, height, width (PyTorch is NCHW)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 8 x 14 x 14
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 7 x 7
        )
        self.classifier = nn.Linear(16 * 7 * 7, CLASSES)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def synthetic_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n images in [0, 1]: class k is the fixed pattern k (from SEED) plus noise drawn from `seed`."""
    patterns = torch.rand((CLASSES, *SHAPE), generator=torch.Generator().manual_seed(SEED))
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (n,), generator=g)
    images = (patterns[labels] + 0.5 * torch.randn((n, *SHAPE), generator=g)).clamp(0, 1)
    return images, labels


def train(steps: int = 150) -> tuple[nn.Module, float]:
    """The CNN after `steps` batches of Adam on synthetic data (a few seconds on a CPU), and its accuracy on
    held-out synthetic images."""
    torch.manual_seed(SEED)
    model, (images, labels) = SmallCNN(), synthetic_data(2048, seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        batch = torch.randint(0, len(images), (64,))
        loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    test_images, test_labels = synthetic_data(512, seed=2)
    with torch.no_grad():
        accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
    return model, accuracy


def export_onnx(model: nn.Module, path: Path) -> Path:
    """The float ONNX model (opset 13, input "input" [1, 1, 28, 28], output "logits" [1, 10])."""
    with warnings.catch_warnings():  # 2.9+ warns that the TorchScript exporter is the legacy one
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (torch.zeros(1, *SHAPE),), str(path), dynamo=False, opset_version=13,
                          input_names=["input"], output_names=["logits"])
    return path


class Calibration(CalibrationDataReader):
    """A few seeded synthetic images, one at a time, for quantize_static to measure activation ranges."""

    def __init__(self, count: int = 32):
        images, _ = synthetic_data(count, seed=3)
        self.samples = iter([{"input": image[None].numpy()} for image in images])

    def get_next(self):
        return next(self.samples, None)


def quantize_qdq(float_path: Path, path: Path) -> Path:
    """int8 QDQ: QuantizeLinear/DequantizeLinear around each Conv, MaxPool and Gemm (the ReLUs fold into the
    QuantizeLinear ranges); int8 activations and per-channel int8 weights. mlir-fdt's integer QDQ path takes
    int8 activations (QInt8): with QUInt8 the model still compiles, but runs in float around fake quantization.
    onnxruntime's pre-processing (shape inference, graph optimisation) first, as its quantization guide asks."""
    prepared = path.with_name(f"{float_path.stem}_prepared.onnx")
    quant_pre_process(str(float_path), str(prepared))
    quantize_static(str(prepared), str(path), Calibration(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True)
    return path


def compile_and_run(model_path: Path, out: Path, run: str = "qemu", checks: int = 2) -> dict:
    """mlir-fdt for cortex-m4 (the CLI's default objective, min-ram), run on `checks` random inputs and
    compared with onnxruntime; report.json's contents."""
    options = CompileOptions(target="cortex-m4", objective="min-ram", run=run, checks=checks)
    return compile_model(model_path, out, options).to_json()


def classify_under_qemu(out: Path, images: torch.Tensor) -> list[int]:
    """The class the firmware compiled into `out` (by `compile_and_run(..., run="qemu")`) gives each image:
    one QEMU run an image, the float32 image in, the float32 logits out."""
    from mlir_fdt.firmware.build import run_qemu
    classes = []
    for image in images:
        result, outputs = run_qemu(out / "firmware" / "build" / "fdt_runner.elf",
                                   [image.numpy().astype(np.float32).tobytes()], out / "firmware")
        if result["status"] != "ok":
            raise RuntimeError(f"the firmware failed: {result}")
        classes.append(int(np.frombuffer(outputs[0], np.float32).argmax()))
    return classes


def summary(name: str, report: dict) -> str:
    instructions = report.get("qemu_instructions")
    return (f"{name:6s} arena {report['arena_bytes']:,} B, "
            + (f"{instructions:,} instructions, " if instructions else "")
            + f"max |diff| vs {report['reference']} {report['max_abs_diff']:.3g}, match {report['match']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the models and mlir-fdt's output")
    parser.add_argument("--run", choices=["qemu", "host"], default="qemu")
    parser.add_argument("--steps", type=int, default=150, help="training batches (default 150)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    model, accuracy = train(args.steps)
    print(f"trained {args.steps} steps: held-out accuracy {accuracy:.1%}")
    float_path = export_onnx(model, args.out / "small_cnn.onnx")
    qdq_path = quantize_qdq(float_path, args.out / "small_cnn_qdq.onnx")
    print(f"exported {float_path.name}, quantized {qdq_path.name}")
    images, labels = synthetic_data(8, seed=4)
    with torch.no_grad():
        print(f"8 held-out images: labels {labels.tolist()}, PyTorch {model(images).argmax(1).tolist()}")
    for name, path in (("float", float_path), ("qdq", qdq_path)):
        report = compile_and_run(path, args.out / name, args.run)
        print(summary(name, report))
        if args.run == "qemu":
            print(f"{'':6s} on the Cortex-M4 (QEMU): {classify_under_qemu(args.out / name, images)}")


if __name__ == "__main__":
    main()
