#!/usr/bin/python3
"""Optimizer and LR-scheduler golden values from PyTorch for lucid::optim.

Run:  /usr/bin/python3 tests/goldens/make_optim_goldens.py   (writes tests/goldens/optim.txt)

Same record format as ops.txt (see README.md): `case`, `in`/`out` tensor records, `end`.
Every case seeds torch with crc32(case name), so adding a case leaves the others unchanged.

OPTIMIZER CASES: three float32 parameters p0[3,4], p1[5], p2[2,3]; group 0 holds p0 and p1,
group 1 holds p2 with the group-1 options. Inputs: p0, p1, p2 (initial values) and
grad<k>_<i> = the gradient set on p<i> before step k (randn times a per-step scale, so the
amsgrad maximum and the momentum both matter). Outputs: p<i>_<k> = p<i> after step k+1,
for k = 0..4.

  name                       optimizer(group 0 options)                          group 1 overrides
  sgd_nesterov_wd            SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)   lr=0.05
  sgd_dampening_maximize     SGD(lr=0.1, momentum=0.8, dampening=0.3, maximize=True)       -
  sgd_plain                  SGD(lr=0.2)                                                   -
  adam_wd                    Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1) -
  adam_amsgrad_wd            Adam(lr=0.02, betas=(0.8, 0.9), weight_decay=0.05, amsgrad=True)  lr=0.005, betas=(0.7, 0.95)
  adamw                      AdamW(lr=0.01, weight_decay=0.1)                              lr=0.03
  adamw_amsgrad              AdamW(lr=0.01, betas=(0.85, 0.9), weight_decay=0.2, amsgrad=True) -
  rmsprop_centered_momentum  RMSprop(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5, centered=True)  lr=0.002
  rmsprop_plain              RMSprop(lr=0.01)                                              -

SCHEDULER CASES: an optimizer with two groups (lr 0.1 and 0.05; SGD with momentum 0.9 unless
said otherwise), the scheduler constructed on it (which performs the initial step), then 99
calls of step(). Output `lr` f64 [100, 2]: row k is every group's lr during epoch k (row 0:
right after construction). OneCycleLR cases also output `momentum` [100, 2] (SGD momentum or
Adam beta1). ReduceLROnPlateau cases take an input `metric` f64 [100] and call step(metric[k])
100 times; row k of `lr` is the lr after the k-th call.

  steplr                     StepLR(step_size=7, gamma=0.5)
  multisteplr                MultiStepLR(milestones=[10, 30, 30, 75], gamma=0.3)
  exponentiallr              ExponentialLR(gamma=0.97)
  cosineannealinglr          CosineAnnealingLR(T_max=30, eta_min=0.001)   (runs past T_max)
  linearlr                   LinearLR(start_factor=0.25, end_factor=1.0, total_iters=10)
  onecyclelr_cos             OneCycleLR(max_lr=[1.0, 0.5], total_steps=100)   (SGD momentum 0.9)
  onecyclelr_linear_3phase   OneCycleLR(max_lr=0.01, total_steps=100, pct_start=0.25,
                               anneal_strategy='linear', div_factor=10, final_div_factor=100,
                               three_phase=True, base_momentum=0.8, max_momentum=0.9)  (Adam)
  sequentiallr               SequentialLR([LinearLR(start_factor=0.1, total_iters=10),
                               CosineAnnealingLR(T_max=90, eta_min=1e-4)], milestones=[10])
  plateau_min_rel            ReduceLROnPlateau(mode='min', factor=0.5, patience=3, threshold=1e-2,
                               cooldown=2, min_lr=[1e-3, 1e-4])
  plateau_max_abs            ReduceLROnPlateau(mode='max', factor=0.3, patience=2, threshold=0.05,
                               threshold_mode='abs', min_lr=0.002, eps=1e-4)
"""
import os
import zlib

import torch
from torch.optim import SGD, Adam, AdamW, RMSprop
from torch.optim import lr_scheduler as S

torch.set_num_threads(1)
STEPS = 5
EPOCHS = 100
SHAPES = [(3, 4), (5,), (2, 3)]
GRAD_SCALE = [1.0, 2.0, 0.5, 0.1, 1.5]


def fmt_tensor(kind, name, t):
    t = t.detach()
    if t.dtype == torch.float32:
        dt, vals = 'f32', ['%.9g' % v for v in t.reshape(-1).tolist()]
    else:
        t = t.double()
        dt, vals = 'f64', ['%.17g' % v for v in t.reshape(-1).tolist()]
    return ' '.join([kind, name, dt, str(t.dim())] + [str(d) for d in t.shape] + vals)


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


OPTIMIZERS = {
    'sgd_nesterov_wd': (lambda g: SGD(g, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                        dict(lr=0.05)),
    'sgd_dampening_maximize': (lambda g: SGD(g, lr=0.1, momentum=0.8, dampening=0.3, maximize=True),
                               {}),
    'sgd_plain': (lambda g: SGD(g, lr=0.2), {}),
    'adam_wd': (lambda g: Adam(g, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), {}),
    'adam_amsgrad_wd': (lambda g: Adam(g, lr=0.02, betas=(0.8, 0.9), weight_decay=0.05, amsgrad=True),
                        dict(lr=0.005, betas=(0.7, 0.95))),
    'adamw': (lambda g: AdamW(g, lr=0.01, weight_decay=0.1), dict(lr=0.03)),
    'adamw_amsgrad': (lambda g: AdamW(g, lr=0.01, betas=(0.85, 0.9), weight_decay=0.2, amsgrad=True), {}),
    'rmsprop_centered_momentum': (lambda g: RMSprop(g, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01,
                                                    momentum=0.5, centered=True), dict(lr=0.002)),
    'rmsprop_plain': (lambda g: RMSprop(g, lr=0.01), {}),
}


def optimizer_case(name, make, group1):
    seed(name)
    params = [torch.randn(s) for s in SHAPES]
    grads = [[torch.randn(s) * GRAD_SCALE[k] for s in SHAPES] for k in range(STEPS)]
    lines = ['case ' + name]
    lines += [fmt_tensor('in', 'p%d' % i, p) for i, p in enumerate(params)]
    for k in range(STEPS):
        lines += [fmt_tensor('in', 'grad%d_%d' % (k, i), g) for i, g in enumerate(grads[k])]
    ps = [p.clone().requires_grad_(True) for p in params]
    opt = make([{'params': ps[:2]}, dict(params=[ps[2]], **group1)])
    for k in range(STEPS):
        for p, g in zip(ps, grads[k]):
            p.grad = g.clone()
        opt.step()
        lines += [fmt_tensor('out', 'p%d_%d' % (i, k), p) for i, p in enumerate(ps)]
    return lines + ['end']


def two_group_sgd():
    p = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return SGD([{'params': [p[0]]}, {'params': [p[1]], 'lr': 0.05}], lr=0.1, momentum=0.9)


def two_group_adam():
    p = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return Adam([{'params': [p[0]]}, {'params': [p[1]], 'lr': 0.05}], lr=0.1)


def lrs(opt):
    return [g['lr'] for g in opt.param_groups]


def momenta(opt):
    return [g['betas'][0] if 'betas' in g else g['momentum'] for g in opt.param_groups]


SCHEDULERS = {
    'steplr': lambda o: S.StepLR(o, step_size=7, gamma=0.5),
    'multisteplr': lambda o: S.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.3),
    'exponentiallr': lambda o: S.ExponentialLR(o, gamma=0.97),
    'cosineannealinglr': lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    'linearlr': lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=10),
    'onecyclelr_cos': lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=100),
    'sequentiallr': lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=10), S.CosineAnnealingLR(o, T_max=90, eta_min=1e-4)],
        milestones=[10]),
}


def scheduler_case(name, make, opt):
    lines = ['case ' + name]
    sched = make(opt)
    lr_rows, mom_rows = [lrs(opt)], [momenta(opt)]
    for _ in range(EPOCHS - 1):
        opt.step()
        sched.step()
        lr_rows.append(lrs(opt))
        mom_rows.append(momenta(opt))
    lines.append(fmt_tensor('out', 'lr', torch.tensor(lr_rows, dtype=torch.float64)))
    if name.startswith('onecyclelr'):
        lines.append(fmt_tensor('out', 'momentum', torch.tensor(mom_rows, dtype=torch.float64)))
    return lines + ['end']


def plateau_metric(name):
    # Falls, then plateaus with noise, falls again, then rises (every branch of the rule).
    seed(name)
    k = torch.arange(EPOCHS, dtype=torch.float64)
    base = torch.where(k < 20, 1.0 / (1 + k), torch.where(k < 50, torch.full_like(k, 0.05),
                       torch.where(k < 70, 0.05 - 0.001 * (k - 50), 0.03 + 0.002 * (k - 70))))
    return base + 0.002 * torch.rand(EPOCHS, dtype=torch.float64)


PLATEAUS = {
    'plateau_min_rel': lambda o: S.ReduceLROnPlateau(o, mode='min', factor=0.5, patience=3, threshold=1e-2,
                                                     cooldown=2, min_lr=[1e-3, 1e-4]),
    'plateau_max_abs': lambda o: S.ReduceLROnPlateau(o, mode='max', factor=0.3, patience=2, threshold=0.05,
                                                     threshold_mode='abs', min_lr=0.002, eps=1e-4),
}


def plateau_case(name, make):
    metric = plateau_metric(name)
    if 'max' in name:
        metric = -metric
    opt = two_group_sgd()
    sched = make(opt)
    rows = []
    for m in metric.tolist():
        sched.step(m)
        rows.append(lrs(opt))
    return ['case ' + name, fmt_tensor('in', 'metric', metric),
            fmt_tensor('out', 'lr', torch.tensor(rows, dtype=torch.float64)), 'end']


def check_table():
    doc_names = {line.split()[0] for line in __doc__.split('\n')
                 if line.startswith('  ') and line.split() and line.split()[0][0].islower()
                 and not line.startswith('    ')}
    names = set(OPTIMIZERS) | set(SCHEDULERS) | set(PLATEAUS) | {'onecyclelr_linear_3phase'}
    assert doc_names >= names, 'cases missing from the docstring table: %s' % (names - doc_names)


def main():
    import warnings
    warnings.simplefilter('ignore')  # optimizer.step() before scheduler.step() is what we do
    check_table()
    out = ['# lucid optimizer/scheduler goldens, made by tests/goldens/make_optim_goldens.py with torch '
           + torch.__version__]
    for name, (make, group1) in OPTIMIZERS.items():
        out += optimizer_case(name, make, group1)
    for name, make in SCHEDULERS.items():
        out += scheduler_case(name, make, two_group_sgd())
    out += scheduler_case('onecyclelr_linear_3phase', lambda o: S.OneCycleLR(
        o, max_lr=0.01, total_steps=100, pct_start=0.25, anneal_strategy='linear', div_factor=10,
        final_div_factor=100, three_phase=True, base_momentum=0.8, max_momentum=0.9), two_group_adam())
    for name, make in PLATEAUS.items():
        out += plateau_case(name, make)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'optim.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    print('wrote', path)


if __name__ == '__main__':
    main()
