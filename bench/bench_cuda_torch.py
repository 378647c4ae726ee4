"""PyTorch on the same GPU jobs as bench_cuda_ops.cpp, for its `torch` columns.

Each case has the name, shapes and dtype of the lucid case of the same name (the list
below and kCases in bench_cuda_ops.cpp must stay in step), and is timed the same way:
`warmup` untimed calls, then `reps` calls, each between two torch.cuda.Event records
on the current stream, the host waiting for the second; the median in milliseconds.
Inputs are fresh N(0, 1) draws (never zeros), made on the GPU.

Switches as lucid's defaults: float32 matmuls and convolutions in full float32
(torch.backends.cuda.matmul.allow_tf32 = False, torch.backends.cudnn.allow_tf32 =
False; PyTorch's own default for the latter is True), cudnn.benchmark off; only the
`matmul_tf32` case turns TF32 on for matmuls.

bench_cuda_ops runs this script after its own cases, with the same --warmup/--reps:
    python3 bench/bench_cuda_torch.py [--warmup N] [--reps N] [--only NAME ...]
Prints `torch_version <version> <gpu name>`, then one line per case:
`torch_case <name> <median ms>`, or `torch_case <name> nan <error>` when it failed.
"""
import argparse
import statistics
import sys

import torch
import torch.nn.functional as F

# The sizes of bench_cuda_ops.cpp (kCases there).
N_ELEM = 64 << 20  # elementwise: 64M floats, 256 MB per tensor (the L2 is 60 MB)
ROWS, COLS = 8192, 8192  # sum and softmax over rows
CE_N, CE_C = 16384, 4096  # cross_entropy logits
LN_N, LN_D = 16384, 4096  # layer_norm
MM = 4096  # matmul MM x MM x MM
CONV_N, CONV_C, CONV_HW = 64, 256, 56  # 3x3 conv, C -> C, padding 1 (a ResNet stage-2 layer)
MLP_B, MLP_IN, MLP_HIDDEN, MLP_CLASSES = 4096, 1024, 4096, 1024


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def randn(*shape):
    return torch.randn(*shape, device="cuda", dtype=torch.float32)


def case_matmul(tf32):
    a, b = randn(MM, MM), randn(MM, MM)

    def run():
        torch.backends.cuda.matmul.allow_tf32 = tf32
        try:
            torch.matmul(a, b)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False
    return run


def case_binary(op):
    a, b = randn(N_ELEM), randn(N_ELEM)
    return lambda: op(a, b)


def case_gelu():
    x = randn(N_ELEM)
    return lambda: F.gelu(x)


def case_sum_rows():
    x = randn(ROWS, COLS)
    return lambda: x.sum(dim=1)


def case_softmax_rows():
    x = randn(ROWS, COLS)
    return lambda: torch.softmax(x, dim=1)


def case_cross_entropy():
    logits = randn(CE_N, CE_C)
    target = torch.randint(0, CE_C, (CE_N,), device="cuda", dtype=torch.int64)
    return lambda: F.cross_entropy(logits, target)


def case_layer_norm():
    x, w, b = randn(LN_N, LN_D), randn(LN_D), randn(LN_D)
    return lambda: F.layer_norm(x, (LN_D,), w, b)


def case_conv2d():
    x = randn(CONV_N, CONV_C, CONV_HW, CONV_HW)
    w = randn(CONV_C, CONV_C, 3, 3) * (1.0 / (CONV_C * 9) ** 0.5)
    return lambda: F.conv2d(x, w, padding=1)


def case_mlp_step():
    model = torch.nn.Sequential(
        torch.nn.Linear(MLP_IN, MLP_HIDDEN), torch.nn.GELU(),
        torch.nn.Linear(MLP_HIDDEN, MLP_HIDDEN), torch.nn.GELU(),
        torch.nn.Linear(MLP_HIDDEN, MLP_CLASSES)).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = randn(MLP_B, MLP_IN)
    y = torch.randint(0, MLP_CLASSES, (MLP_B,), device="cuda", dtype=torch.int64)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return run


CASES = {
    "matmul_fp32": lambda: case_matmul(False),
    "matmul_tf32": lambda: case_matmul(True),
    "add": lambda: case_binary(torch.add),
    "mul": lambda: case_binary(torch.mul),
    "gelu": case_gelu,
    "sum_rows": case_sum_rows,
    "softmax_rows": case_softmax_rows,
    "cross_entropy": case_cross_entropy,
    "layer_norm": case_layer_norm,
    "conv2d": case_conv2d,
    "mlp_step": case_mlp_step,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=None, help="case names (default: all)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_cuda_torch.py: torch sees no GPU", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    print(f"torch_version {torch.__version__} {torch.cuda.get_device_name(0)}", flush=True)
    for name, make in CASES.items():
        if args.only is not None and name not in args.only:
            continue
        try:
            run = make()
            ms = median_ms(run, args.warmup, args.reps)
            print(f"torch_case {name} {ms:.6f}", flush=True)
        except Exception as e:  # one failed case must not hide the others
            first = (str(e).splitlines() or [type(e).__name__])[0]
            print(f"torch_case {name} nan {type(e).__name__}: {first}", flush=True)
        finally:
            run = None
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
