#!/usr/bin/python3
"""Golden values from PyTorch for lucid's nn modules (forward and gradients).

Run:  /usr/bin/python3 tests/goldens/make_nn_goldens.py   (writes tests/goldens/nn.txt)

Each case seeds torch with crc32(case name), builds the module (PyTorch's default
init, so the weights are random), makes its inputs, puts the module in train or
eval mode, runs it and backpropagates sum(out * grad_out). Records, in order:

  attr mode <train|eval>
  in   state.<key>        every module.state_dict() entry before the forward
                          (parameters and buffers; lucid loads them with a strict
                          load_state_dict, so the keys must be lucid's keys too)
  in   <input>            the forward's inputs, in call order
  in   grad_out           upstream gradient of the first output (when differentiable)
  out  out                the output (a case may name several: attn_output, ...)
  out  state_after.<key>  every buffer after the forward (running statistics)
  out  grad_<input>       for each differentiable float input (not listed as "no grad")
  out  grad_state.<key>   for each parameter that requires grad and that the
                          backward reaches (none: lucid's .grad must stay undefined)
  end

Adding a case: one case(...) line below and one row in this table; then one row
in the registry of tests/test_nn_goldens.cpp that builds the same module in lucid
and calls it. A forward with several outputs returns a dict (the first entry gets
grad_out); several inputs are passed positionally in the order make_inputs gives.
Modules in float64: build with .double() and make float64 inputs (the lucid test
converts the module with to(kFloat64) when the state is float64).

CASE TABLE (name | module | inputs | mode | no grad)
  linear               nn.Linear(4, 3)                          x[2,5,4]          train
  linear_nobias        nn.Linear(4, 3, bias=False)              x[3,4]            train
  linear_f64           nn.Linear(5, 2).double()                 x[3,5] float64    train
  linear_in1           nn.Linear(1, 6)                          x[7,1]            train
  relu                 nn.ReLU()                                x[3,5]            train
  gelu                 nn.GELU()                                x[3,5]            train
  gelu_tanh            nn.GELU(approximate='tanh')              x[3,5]            train
  silu                 nn.SiLU()                                x[3,5]            train
  tanh                 nn.Tanh()                                x[3,5]            train
  sigmoid              nn.Sigmoid()                             x[3,5]            train
  flatten              nn.Flatten()                             x[2,3,2,2]        train
  flatten_0_1          nn.Flatten(0, 1)                         x[2,3,4]          train
  identity             nn.Identity()                            x[3,4]            train
  dropout_eval         nn.Dropout(0.5)                          x[3,5]            eval
  mlp                  nn.Sequential(Linear(6, 8), ReLU(), Linear(8, 8), GELU(), Dropout(0.3),
                                     Linear(8, 3), Tanh())     x[4,6]            eval
  mlp_named            nn.Sequential(OrderedDict(fc1=Linear(5, 7), act=SiLU(), fc2=Linear(7, 2)))
                                                                x[3,5]            train
"""
import collections
import os
import re
import sys
import zlib

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_goldens import record  # noqa: E402  (the shared record format)

torch.set_num_threads(1)

CASES = []  # (name, build, make_inputs, mode, no_grad)


def case(name, build, make_inputs, mode="train", no_grad=()):
    CASES.append((name, build, make_inputs, mode, set(no_grad)))


def rn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


def x_of(*shape, dtype=torch.float32):
    return lambda: dict(x=rn(*shape, dtype=dtype))


# ---- linear ---------------------------------------------------------------------------
case("linear", lambda: nn.Linear(4, 3), x_of(2, 5, 4))
case("linear_nobias", lambda: nn.Linear(4, 3, bias=False), x_of(3, 4))
case("linear_f64", lambda: nn.Linear(5, 2).double(), x_of(3, 5, dtype=torch.float64))
case("linear_in1", lambda: nn.Linear(1, 6), x_of(7, 1))

# ---- activations and shape modules ---------------------------------------------------------
case("relu", nn.ReLU, x_of(3, 5))
case("gelu", nn.GELU, x_of(3, 5))
case("gelu_tanh", lambda: nn.GELU(approximate="tanh"), x_of(3, 5))
case("silu", nn.SiLU, x_of(3, 5))
case("tanh", nn.Tanh, x_of(3, 5))
case("sigmoid", nn.Sigmoid, x_of(3, 5))
case("flatten", nn.Flatten, x_of(2, 3, 2, 2))
case("flatten_0_1", lambda: nn.Flatten(0, 1), x_of(2, 3, 4))
case("identity", nn.Identity, x_of(3, 4))
case("dropout_eval", lambda: nn.Dropout(0.5), x_of(3, 5), mode="eval")

# ---- containers ------------------------------------------------------------------------------
case("mlp", lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(),
                                  nn.Dropout(0.3), nn.Linear(8, 3), nn.Tanh()),
     x_of(4, 6), mode="eval")
case("mlp_named", lambda: nn.Sequential(collections.OrderedDict(
    fc1=nn.Linear(5, 7), act=nn.SiLU(), fc2=nn.Linear(7, 2))), x_of(3, 5))


# ---- writing ----------------------------------------------------------------------------------
def run_case(name, build, make_inputs, mode, no_grad):
    torch.manual_seed(zlib.crc32(name.encode()))
    module = build()
    inputs = make_inputs()
    module.train(mode == "train")
    lines = ["case " + name, "attr mode " + mode]
    lines += [record("in", "state." + k, v) for k, v in module.state_dict().items()]
    lines += [record("in", k, v) for k, v in inputs.items()]
    diff = [k for k, v in inputs.items() if v.is_floating_point() and k not in no_grad]
    args = {k: (v.clone().requires_grad_(True) if k in diff else v) for k, v in inputs.items()}
    outs = module(*args.values())
    if not isinstance(outs, dict):
        outs = {"out": outs}
    first = next(iter(outs.values()))
    params = [(k, p) for k, p in module.named_parameters() if p.requires_grad]
    grads = []
    if first.requires_grad:
        g = torch.randn(first.shape, dtype=first.dtype)
        lines.append(record("in", "grad_out", g))
        wrt = [args[k] for k in diff] + [p for _, p in params]
        gs = torch.autograd.grad((first * g).sum(), wrt, allow_unused=True)
        names = ["grad_" + k for k in diff] + ["grad_state." + k for k, _ in params]
        # A parameter the backward does not reach (gk None) gets no record: lucid must
        # leave its .grad undefined too.
        grads = [record("out", n, gk) for n, gk in zip(names, gs) if gk is not None]
    lines += [record("out", k, v) for k, v in outs.items()]
    lines += [record("out", "state_after." + k, v) for k, v in module.named_buffers()]
    lines += grads + ["end"]
    return lines


def main():
    table = set(re.findall(r"^  (\S+)\s", __doc__.split("CASE TABLE")[1], re.M))
    names = [c[0] for c in CASES]
    assert len(set(names)) == len(names), "duplicate case name"
    assert table == set(names), (table ^ set(names))
    lines = [f"# lucid nn goldens, made by tests/goldens/make_nn_goldens.py with torch {torch.__version__}"]
    for c in CASES:
        lines += run_case(*c)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
