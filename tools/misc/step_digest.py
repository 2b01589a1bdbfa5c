"""What a few training steps of benchmark rows compute, as digests, to show
that a refactor changes nothing (run it in both checkouts and compare):

    python tools/misc/step_digest.py configs/benchmarks/fashion_mnist_unlabelled.py \
        --methods cakd kd --steps 4 --out before.json
    (after the change)  ... --out after.json;  cmp before.json after.json

Each row's model is built from its config and options (the benchmark's
teacher weights, seed 0, as the runner's --cfg-options give them) and
takes ``--steps`` train steps on fixed random batches (a third of the
samples unlabelled); the output holds every step's logged values and an
md5 digest of every non-teacher tensor of the final state_dict.
"""
import argparse
import hashlib
import json

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmpretrain.structures import DataSample

from mmcakd.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmcakd.utils import register_all_modules


def digest(bench: Config, name: str, steps: int) -> dict:
    run = bench.methods[name]
    cfg = Config.fromfile(run['config'])
    options = dict(run.get('options', {}))
    if 'teacher_ckpt' in cfg.model:
        options['model.teacher_ckpt'] = bench.teacher_ckpt
    cfg.merge_from_dict(options)
    set_random_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    wrapper_cfg = dict(cfg.optim_wrapper)
    constructor = wrapper_cfg.pop('constructor',
                                  'DefaultOptimWrapperConstructor')
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor, optim_wrapper_cfg=wrapper_cfg))(model)
    g = torch.Generator().manual_seed(1)
    shape = model.resolve_input_size(cfg.model.get('input_size'))
    logs = []
    model.train()
    for _ in range(steps):
        x = torch.rand(16, *shape, generator=g) * 255
        labels = torch.randint(0, 10, (16, ), generator=g)
        labels[::3] = -1  # unlabelled
        samples = [DataSample().set_gt_label(int(y)) for y in labels]
        log = model.train_step(dict(inputs=list(x), data_samples=samples),
                               optim)
        logs.append({k: float(v) for k, v in log.items()})
    tensors = {
        k: hashlib.md5(v.detach().contiguous().numpy().tobytes()).hexdigest()
        for k, v in model.state_dict().items()
        if torch.is_tensor(v) and not k.startswith('teacher.')
    }
    return dict(logs=logs, state_dict=tensors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('benchmark', help='a configs/benchmarks/ config')
    parser.add_argument('--methods', nargs='+', required=True)
    parser.add_argument('--steps', type=int, default=4)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    register_all_modules()
    init_default_scope('mmcakd')
    torch.set_num_threads(1)  # the same sums whatever the machine
    bench = Config.fromfile(args.benchmark)
    unknown = sorted(set(args.methods) - set(bench.methods))
    if unknown:
        parser.error(f'--methods: {unknown} are not rows of '
                     f'{args.benchmark}')
    out = {name: digest(bench, name, args.steps) for name in args.methods}
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
