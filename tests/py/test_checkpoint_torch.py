"""A lucid-train checkpoint, read by the reference tools.

For fashion-cnn and fashion-mlp: a short lucid-train run writes a checkpoint;
its model.safetensors loads with safetensors.torch.load_file into the
equivalent PyTorch module with load_state_dict(strict=True) and gives the same
logits as lucid on the same 16 test images (whose normalization is checked
against the IDX file read here); optimizer.safetensors holds the AdamW state
under lucid's names with the parameters' shapes; trainer_state.json is plain
JSON; and the run's TensorBoard event file reads back with TensorBoard's own
loader, one val/accuracy point per epoch.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

BUILD = os.environ["LUCID_BUILD_DIR"]
LUCID_TRAIN = os.path.join(BUILD, "apps", "lucid-train")
LOGITS_TOOL = os.path.join(BUILD, "tests", "checkpoint_logits")
FASHION = "/usr/share/datasets/fashion-mnist"


class SmallCNN(torch.nn.Module):
    """nn/models/small_cnn.h, in PyTorch: the same names, the same layers."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class MLP(torch.nn.Module):
    """nn/models/mlp.h with hidden [512, 256] and dropout 0.2, in PyTorch."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.layers = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 256), nn.ReLU(),
                                    nn.Dropout(0.2), nn.Linear(256, 10))

    def forward(self, x):
        return self.layers(x.flatten(1))


def first_test_images(n):
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)[: n * 784]
    x = raw.reshape(n, 1, 28, 28).astype(np.float32) / 255.0
    return torch.from_numpy((x - np.float32(0.2860)) / np.float32(0.3530))


def check(recipe, model, work):
    logdir = os.path.join(work, recipe)
    run = subprocess.run([LUCID_TRAIN, "--recipe", recipe, "--train-samples", "256", "--val-samples", "128",
                          "--batch-size", "32", "--epochs", "2", "--workers", "0", "--logdir", logdir,
                          "--progress", "lines"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    ckpt = os.path.join(logdir, "checkpoints", open(os.path.join(logdir, "checkpoints", "last")).read().strip())

    state = load_file(os.path.join(ckpt, "model.safetensors"))
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys, result
    model.eval()

    out = os.path.join(work, recipe + "-logits.safetensors")
    tool = subprocess.run([LOGITS_TOOL, ckpt, recipe, out], capture_output=True, text=True)
    assert tool.returncode == 0, tool.stdout + tool.stderr
    lucid = load_file(out)
    inputs = first_test_images(16)
    assert torch.allclose(lucid["inputs"], inputs, atol=1e-6), "lucid's normalized inputs differ"
    with torch.no_grad():
        logits = model(inputs)
    diff = (logits - lucid["logits"]).abs().max().item()
    assert diff < 1e-4, f"{recipe}: logits differ by {diff}"
    print(f"{recipe}: {len(state)} tensors load into PyTorch; logits agree to {diff:.2e}")

    opt = load_file(os.path.join(ckpt, "optimizer.safetensors"))
    params = [p for _, p in model.named_parameters()]
    # lucid's two parameter groups: weights with more than one dimension, then the rest.
    ordered = [p for p in params if p.dim() > 1] + [p for p in params if p.dim() <= 1]
    for i, p in enumerate(ordered):
        assert opt[f"state.{i}.exp_avg"].shape == p.shape, (i, opt[f"state.{i}.exp_avg"].shape, p.shape)
        assert opt[f"state.{i}.exp_avg_sq"].shape == p.shape
        assert opt[f"state.{i}.step"].item() == 16  # 2 epochs of 8 steps
    with open(os.path.join(ckpt, "trainer_state.json")) as f:
        trainer = json.load(f)
    assert trainer["global_step"] == 16 and trainer["optimizer"]["type"] == "AdamW", trainer
    assert trainer["config"]["recipe"] == recipe

    events = EventAccumulator(logdir)
    events.Reload()
    acc = events.Scalars("val/accuracy")
    assert [e.step for e in acc] == [8, 16], acc
    assert abs(acc[-1].value - trainer["metrics"]["val/accuracy"]) < 1e-6
    print(f"{recipe}: optimizer state, trainer_state.json and the event file read back")


def main():
    with tempfile.TemporaryDirectory() as work:
        check("fashion-cnn", SmallCNN(), work)
        check("fashion-mlp", MLP(), work)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
