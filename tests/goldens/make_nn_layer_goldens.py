#!/usr/bin/python3
"""Golden values from PyTorch for lucid's nn layer modules (nn/modules/*).

Run:  /usr/bin/python3 tests/goldens/make_nn_layer_goldens.py   (writes tests/goldens/nn_layers.txt)

Format: as goldens/README.md (case / in / out / end records), plus
  state <key> <tensor>   the module's state_dict before forward (PyTorch's names);
                         the C++ test loads it with load_state_dict, which also
                         proves lucid's parameter and buffer names equal PyTorch's.
Per case:
  in   the forward inputs, and grad_out (upstream gradient of `out`)
  out  out (and weights for attention), grad_<input> for each float input that
       takes a gradient, grad.<param> for every parameter, and after.<buffer>
       for every buffer after the forward (BatchNorm's running statistics).
Gradients are of sum(out * grad_out). Every case seeds torch with crc32(name);
random parameters and running statistics replace the defaults so that every
value matters. Dropout is 0 everywhere (training masks are not comparable).

CASES (name | module | inputs)
  conv2d_k3_p1               Conv2d(3, 4, 3, padding=1)                       x[2,3,5,6]
  conv2d_s2_p1_d2_g2_nobias  Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0),
                             dilation=(1, 2), groups=2, bias=False)          x[2,4,7,8]
  batchnorm2d_train          BatchNorm2d(3), train, running stats random, nbt 3  x[4,3,5,5]
  batchnorm2d_eval           BatchNorm2d(3), eval                             x[4,3,5,5]
  batchnorm1d_train_3d_m0.3  BatchNorm1d(4, momentum=0.3), train              x[5,4,3]
  batchnorm1d_train_mNone    BatchNorm1d(4, momentum=None), train, nbt 3      x[6,4]
  batchnorm1d_eval_2d        BatchNorm1d(4), eval                             x[6,4]
  layernorm_4x5              LayerNorm((4, 5))                                x[3,4,5]
  layernorm_noaffine         LayerNorm(5, eps=1e-3, elementwise_affine=False) x[3,4,5]
  maxpool2d_k3_s2_p1         MaxPool2d(3, stride=2, padding=1)                x[2,3,7,7]
  avgpool2d_k3_s2_p1_excpad  AvgPool2d(3, stride=2, padding=1, count_include_pad=False)  x[2,3,7,7]
  adaptive_avgpool2d_2x3     AdaptiveAvgPool2d((2, 3))                        x[2,3,7,8]
  embedding_padding_idx_2    Embedding(10, 4, padding_idx=2)                  idx[3,5] i64 (has 2s)
  mha_self_causal_batch_first  MultiheadAttention(8, 2, batch_first=True), bool mask
                             triu(ones(5, 5), 1) (True = may not attend), averaged weights  x[2,5,8]
  mha_cross_float_mask_per_head  MultiheadAttention(8, 2), seq-first, float mask [5,6],
                             need_weights, average_attn_weights=False   q[5,2,8] k[6,2,8] v[6,2,8]
  mha_nobias_unbatched       MultiheadAttention(6, 3, bias=False)             q[4,6] k[3,6] v[3,6]
  cross_entropy_w_ignore1_ls0.1  CrossEntropyLoss(weight=w[5], ignore_index=1, label_smoothing=0.1)
                                                                              input[6,5] target[6]
  cross_entropy_sum_nd       CrossEntropyLoss(reduction='sum')                input[3,4,2,2] target[3,2,2]
  nll_loss_weight            NLLLoss(weight=w[4])                             input[5,4] (log_softmax) target[5]
  mse_loss                   MSELoss()                                        input[3,4] target[3,4]
  bce_with_logits_w_posw     BCEWithLogitsLoss(weight=w[4], pos_weight=pw[4]) input[3,4] target[3,4] in [0,1]
"""
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

DT = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "bool"}
lines = [f"# lucid nn layer goldens, made by tests/goldens/make_nn_layer_goldens.py with torch {torch.__version__}"]


def rec(kind, name, t):
    t = t.detach().contiguous()
    dt = DT[t.dtype]
    if dt == "f32":
        vals = " ".join("%.9g" % v for v in t.flatten().tolist())
    elif dt == "f64":
        vals = " ".join("%.17g" % v for v in t.flatten().tolist())
    else:
        vals = " ".join(str(int(v)) for v in t.flatten().tolist())
    dims = " ".join(str(d) for d in t.shape)
    lines.append(f"{kind} {name} {dt} {t.dim()}" + (f" {dims}" if dims else "") + (f" {vals}" if vals else ""))


def randomize(module):
    """Random parameters and running statistics, so every value matters."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") and p.dim() == 1 else 0.0))
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.3)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(3)


def case(name, module, inputs, grad_inputs, train=True, call=None, outputs=("out",)):
    """inputs: list of (name, tensor); grad_inputs: names that take a gradient.
    call(module, *tensors) -> tuple of outputs named by `outputs` (first is `out`)."""
    torch.manual_seed(zlib.crc32(name.encode()))
    module.train(train)
    randomize(module)
    tensors = [t() if callable(t) else t for _, t in inputs]
    names = [n for n, _ in inputs]
    lines.append(f"case {name}")
    for n, t in zip(names, tensors):
        rec("in", n, t)
    for k, v in module.state_dict().items():
        rec("state", k, v)
    for n, t in zip(names, tensors):
        if n in grad_inputs:
            t.requires_grad_(True)
    res = call(module, *tensors) if call else module(*tensors)
    res = res if isinstance(res, tuple) else (res,)
    out = res[0]
    grad_out = torch.randn_like(out)
    rec("in", "grad_out", grad_out)
    for n, r in zip(outputs, res):
        rec("out", n, r)
    (out * grad_out).sum().backward()
    for n, t in zip(names, tensors):
        if n in grad_inputs:
            rec("out", "grad_" + n, t.grad)
    for k, p in module.named_parameters():
        rec("out", "grad." + k, p.grad)
    for k, b in module.named_buffers():
        rec("out", "after." + k, b)
    lines.append("end")


def seeded(name):
    torch.manual_seed(zlib.crc32(("inputs:" + name).encode()))


def x(*shape):
    return torch.randn(*shape)


def main():
    seeded("conv"); case("conv2d_k3_p1", nn.Conv2d(3, 4, 3, padding=1), [("x", x(2, 3, 5, 6))], {"x"})
    seeded("conv2"); case("conv2d_s2_p1_d2_g2_nobias",
         nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, bias=False),
         [("x", x(2, 4, 7, 8))], {"x"})
    seeded("bn2"); case("batchnorm2d_train", nn.BatchNorm2d(3), [("x", x(4, 3, 5, 5) * 2 + 0.5)], {"x"})
    seeded("bn2e"); case("batchnorm2d_eval", nn.BatchNorm2d(3), [("x", x(4, 3, 5, 5) * 2 + 0.5)], {"x"}, train=False)
    seeded("bn1"); case("batchnorm1d_train_3d_m0.3", nn.BatchNorm1d(4, momentum=0.3), [("x", x(5, 4, 3))], {"x"})
    seeded("bn1n"); case("batchnorm1d_train_mNone", nn.BatchNorm1d(4, momentum=None), [("x", x(6, 4))], {"x"})
    seeded("bn1e"); case("batchnorm1d_eval_2d", nn.BatchNorm1d(4), [("x", x(6, 4))], {"x"}, train=False)
    seeded("ln"); case("layernorm_4x5", nn.LayerNorm((4, 5)), [("x", x(3, 4, 5))], {"x"})
    seeded("ln2"); case("layernorm_noaffine", nn.LayerNorm(5, eps=1e-3, elementwise_affine=False), [("x", x(3, 4, 5))], {"x"})
    seeded("mp"); case("maxpool2d_k3_s2_p1", nn.MaxPool2d(3, stride=2, padding=1), [("x", x(2, 3, 7, 7))], {"x"})
    seeded("ap"); case("avgpool2d_k3_s2_p1_excpad", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                       [("x", x(2, 3, 7, 7))], {"x"})
    seeded("aap"); case("adaptive_avgpool2d_2x3", nn.AdaptiveAvgPool2d((2, 3)), [("x", x(2, 3, 7, 8))], {"x"})
    seeded("emb")
    idx = torch.randint(0, 10, (3, 5))
    idx[0, 1] = 2; idx[2, 4] = 2; idx[1, 0] = 7; idx[1, 3] = 7
    case("embedding_padding_idx_2", nn.Embedding(10, 4, padding_idx=2), [("idx", idx)], set())

    seeded("mha1")
    causal = torch.triu(torch.ones(5, 5), 1).bool()
    case("mha_self_causal_batch_first", nn.MultiheadAttention(8, 2, batch_first=True),
         [("x", x(2, 5, 8)), ("attn_mask", causal)], {"x"},
         call=lambda m, xx, mask: m(xx, xx, xx, attn_mask=mask, need_weights=True), outputs=("out", "weights"))
    seeded("mha2")
    case("mha_cross_float_mask_per_head", nn.MultiheadAttention(8, 2),
         [("q", x(5, 2, 8)), ("k", x(6, 2, 8)), ("v", x(6, 2, 8)), ("attn_mask", x(5, 6))], {"q", "k", "v"},
         call=lambda m, q, k, v, mask: m(q, k, v, attn_mask=mask, need_weights=True, average_attn_weights=False),
         outputs=("out", "weights"))
    seeded("mha3")
    case("mha_nobias_unbatched", nn.MultiheadAttention(6, 3, bias=False),
         [("q", x(4, 6)), ("k", x(3, 6)), ("v", x(3, 6))], {"q", "k", "v"},
         call=lambda m, q, k, v: m(q, k, v, need_weights=True), outputs=("out", "weights"))

    seeded("ce")
    t = torch.tensor([0, 1, 4, 2, 1, 3])
    case("cross_entropy_w_ignore1_ls0.1",
         nn.CrossEntropyLoss(weight=torch.rand(5) + 0.5, ignore_index=1, label_smoothing=0.1),
         [("input", x(6, 5)), ("target", t)], {"input"})
    seeded("ce2")
    case("cross_entropy_sum_nd", nn.CrossEntropyLoss(reduction="sum"),
         [("input", x(3, 4, 2, 2)), ("target", torch.randint(0, 4, (3, 2, 2)))], {"input"})
    seeded("nll")
    case("nll_loss_weight", nn.NLLLoss(weight=torch.rand(4) + 0.5),
         [("input", F.log_softmax(x(5, 4), 1)), ("target", torch.randint(0, 4, (5,)))], {"input"})
    seeded("mse")
    case("mse_loss", nn.MSELoss(), [("input", x(3, 4)), ("target", x(3, 4))], {"input", "target"})
    seeded("bce")
    case("bce_with_logits_w_posw", nn.BCEWithLogitsLoss(weight=torch.rand(4) + 0.5, pos_weight=torch.rand(4) + 0.5),
         [("input", x(3, 4) * 2), ("target", torch.rand(3, 4))], {"input"})

    path = sys.argv[1] if len(sys.argv) > 1 else __file__.replace("make_nn_layer_goldens.py", "nn_layers.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}: {sum(1 for l in lines if l.startswith('case '))} cases")


if __name__ == "__main__":
    main()
