"""Accuracy of a classifier under a fixed set of image corruptions.

    python tools/analysis_tools/robustness.py CONFIG CKPT [--out-dir DIR]
        [--cfg-options k=v ...]

Works for any mmpretrain classifier config, distilled or not (a distiller
predicts with its student). Evaluates the config's test set clean and under
every corruption of ``mmcakd.evaluation.corruptions`` (Gaussian noise, blur,
contrast, occlusion; three severities each, deterministic), prints a table
and writes ``robustness.json`` and ``robustness.png`` into ``--out-dir``
(default: ``work_dirs/<config name>/robustness``).
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner, load_checkpoint

from mmcakd.evaluation import SEVERITIES, corrupt
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


@torch.no_grad()
def accuracy(model, loader, corruption: Optional[Tuple[str, float]]) -> float:
    """Top-1 (%) on ``loader``, its raw images corrupted first if asked."""
    correct = total = 0
    for index, data in enumerate(loader):
        if corruption is not None:
            images = torch.stack(data['inputs'])
            images = corrupt(images, *corruption, batch_index=index)
            data = dict(data, inputs=list(images))
        data = model.data_preprocessor(data, False)
        samples = model(**data, mode='predict')
        pred = torch.stack([s.pred_label for s in samples]).view(-1)
        gt = torch.stack([s.gt_label for s in samples]).view(-1)
        correct += int((pred == gt).sum())
        total += len(samples)
    return 100.0 * correct / total


def plot(results: Dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, levels in SEVERITIES.items():
        ax.plot([0, 1, 2, 3],
                [results['clean']] +
                [results['corrupted'][name][str(v)] for v in levels],
                marker='o', label=name)
    ax.set_xticks([0, 1, 2, 3], ['clean', '1', '2', '3'])
    ax.set_xlabel('severity')
    ax.set_ylabel('top-1 accuracy (%)')
    ax.set_title(osp.basename(results['config']))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    register_all_modules()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not '
                                'exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = MODELS.build(model_config(cfg))
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()
    loader = Runner.build_dataloader(cfg.test_dataloader)
    out_dir = args.out_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0], 'robustness')
    os.makedirs(out_dir, exist_ok=True)

    results = dict(config=args.config, checkpoint=args.checkpoint,
                   clean=accuracy(model, loader, None), corrupted={})
    print(f'{"corruption":16} {"severity":>9} {"top-1 (%)":>10}')
    print(f'{"clean":16} {"-":>9} {results["clean"]:10.2f}')
    for name, levels in SEVERITIES.items():
        results['corrupted'][name] = {}
        for level in levels:
            acc = accuracy(model, loader, (name, level))
            results['corrupted'][name][str(level)] = acc
            print(f'{name:16} {level:9g} {acc:10.2f}')
    every = [a for d in results['corrupted'].values() for a in d.values()]
    results['mean_corrupted'] = sum(every) / len(every)
    print(f'{"mean corrupted":16} {"":>9} {results["mean_corrupted"]:10.2f}')
    with open(osp.join(out_dir, 'robustness.json'), 'w') as f:
        json.dump(results, f, indent=2)
    plot(results, osp.join(out_dir, 'robustness.png'))
    print(f'wrote {out_dir}/robustness.json and robustness.png')


if __name__ == '__main__':
    main()
