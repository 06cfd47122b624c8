#!/usr/bin/python3
"""The BENCHMARKS.md reference convolutional autoencoder in PyTorch, for side-by-side speed runs.

Same network as vigil's conv-ae with height 28, width 28, depth 2, filters 32, latent 32:
  encoder conv 3x3 1->32 s2, LeakyReLU(0.2), conv 3x3 32->64 s2, LeakyReLU(0.2), flatten, dense 3136->32
  decoder dense 32->3136, LeakyReLU(0.2), reshape (64, 7, 7), convT 3x3 64->32 s2, LeakyReLU(0.2),
          convT 3x3 32->1 s2, sigmoid
Adam 1e-3, MSE, batch 128, random inputs in [0, 1) (speed does not depend on the values).

Prints one JSON object: torch version, threads, and for training and inference the samples/s by wall
time and by process CPU time (CPU time is steadier on a shared machine; with one thread the two
agree on an idle one).

  /usr/bin/python3 bench/peers/torch_reference.py [--threads 1] [--train-steps 30] [--infer-batches 60]
                                                  [--export-onnx out.onnx]
"""
import argparse
import json
import time

import torch
from torch import nn


class Reshape(nn.Module):
    """(N, 3136) -> (N, 64, 7, 7); nn.Unflatten has no ONNX export in torch 1.13."""

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return t.view(t.shape[0], 64, 7, 7)


def build() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 32),
        nn.Linear(32, 64 * 7 * 7),
        nn.LeakyReLU(0.2),
        Reshape(),
        nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),
        nn.Sigmoid(),
    )


def timed(fn, reps: int) -> dict:
    """Wall and process-CPU seconds for `reps` calls of fn (after the caller's warm-up)."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--train-steps", type=int, default=30)
    p.add_argument("--infer-batches", type=int, default=60)
    p.add_argument("--export-onnx", default=None, help="also write the model as ONNX (NCHW input 'x', output 'y', dynamic batch)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build()
    x = torch.rand(a.batch, 1, 28, 28)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()

    def train_step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()

    for _ in range(3):
        train_step()
    train = timed(train_step, a.train_steps)

    model.eval()

    def infer() -> None:
        with torch.no_grad():
            model(x)

    for _ in range(3):
        infer()
    inference = timed(infer, a.infer_batches)

    def rates(t: dict, samples: int) -> dict:
        return {"samples_per_s_wall": samples / t["wall_s"], "samples_per_s_cpu": samples / t["cpu_s"], **t}

    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "train": rates(train, a.batch * a.train_steps),
        "inference": rates(inference, a.batch * a.infer_batches),
    }
    if a.export_onnx:
        torch.onnx.export(model, x[:1], a.export_onnx, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13)
        out["onnx"] = a.export_onnx
    print(json.dumps(out))


if __name__ == "__main__":
    main()
