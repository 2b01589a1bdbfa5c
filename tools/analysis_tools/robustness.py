"""Accuracy of a classifier under a fixed set of image corruptions.

    python tools/analysis_tools/robustness.py CONFIG CKPT [--out-dir DIR]
        [--corruptions NAME [NAME ...]] [--cfg-options k=v ...]

Works for any mmpretrain classifier config, distilled or not (a distiller
predicts with its student). Evaluates the config's test set clean and under
the corruptions of ``mmcakd.evaluation.corruptions`` (all of them, or those
named by ``--corruptions``; three deterministic severities each), prints a
table and writes ``robustness.json`` and ``robustness.png`` into
``--out-dir`` (default: ``work_dirs/<config name>/robustness``).

The families come in two groups (docs/robustness.md): ``seen``, which the
training views produce (noise, blur, contrast, occlusion), and
``held_out``, which nothing in training produces (JPEG, pixelate, salt and
pepper, motion blur, elastic). ``robustness.json`` holds

- ``clean``: top-1 (%) on the clean test set;
- ``corrupted``: family -> {str(severity): top-1};
- ``families``: family -> {group, levels, mean (over its severities)};
- ``mean_corrupted``: the mean over every severity of every family run;
- ``mean_seen``, ``mean_held_out``: the same over one group's families
  (null when none of that group was run);
- ``config``, ``checkpoint``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from statistics import mean
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner, load_checkpoint

from mmcakd.evaluation import (FAMILIES, GROUP_NAMES, GROUPS, SEVERITIES,
                               check_families, corrupt)
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir')
    parser.add_argument(
        '--corruptions',
        nargs='+',
        metavar='NAME',
        help='corruption families to run (default: all): '
        f'{", ".join(FAMILIES)}')
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


def summarise(results: Dict, names: List[str]) -> None:
    """Add ``families``, ``mean_corrupted`` and the group means in place."""
    results['families'] = {
        name: dict(group=GROUPS[name], levels=SEVERITIES[name],
                   mean=mean(results['corrupted'][name].values()))
        for name in names
    }
    every = [a for d in results['corrupted'].values() for a in d.values()]
    results['mean_corrupted'] = mean(every)
    for group in GROUP_NAMES:
        accs = [a for name in names if GROUPS[name] == group
                for a in results['corrupted'][name].values()]
        # null, not 0, when the group was not run: 0% would read as a result.
        results[f'mean_{group}'] = mean(accs) if accs else None


def plot(results: Dict, path: str) -> None:
    """One panel per group that was run: accuracy against severity, one line
    per family, the clean accuracy at severity 0 of every line."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    groups = [g for g in GROUP_NAMES if results[f'mean_{g}'] is not None]
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4),
                             sharey=True, squeeze=False)
    for ax, group in zip(axes[0], groups):
        for name, family in results['families'].items():
            if family['group'] != group:
                continue
            ax.plot([0, 1, 2, 3], [results['clean']] + [
                results['corrupted'][name][str(v)] for v in family['levels']
            ], marker='o', label=name)
        ax.set_xticks([0, 1, 2, 3], ['clean', '1', '2', '3'])
        ax.set_xlabel('severity')
        ax.set_title(f'{group} (mean {results[f"mean_{group}"]:.1f}%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    axes[0][0].set_ylabel('top-1 accuracy (%)')
    fig.suptitle(osp.basename(results['config']))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


WIDTH = 44  # the severity cells of a row: three "level: top-1" pairs


def family_row(name: str, accs: Dict[str, float]) -> str:
    """A table row: the family, its group, top-1 at each severity, mean."""
    cells = '  '.join(f'{v:>5g}: {accs[str(v)]:6.2f}'
                      for v in SEVERITIES[name])
    return (f'{name:16} {GROUPS[name]:9} {cells:{WIDTH}} '
            f'{mean(accs.values()):6.2f}')


def main() -> None:
    args = parse_args()
    # Checked before anything is built or written, so a typo costs nothing.
    try:
        names = check_families(dict.fromkeys(args.corruptions or FAMILIES))
    except ValueError as err:
        sys.exit(f'error: --corruptions: {err}')
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
    print(f'{"corruption":16} {"group":9} {"severity: top-1 (%)":{WIDTH}} '
          f'{"mean":>6}')
    print(f'{"clean":16} {"-":9} {"":{WIDTH}} {results["clean"]:6.2f}')
    for name in names:
        results['corrupted'][name] = {
            str(level): accuracy(model, loader, (name, level))
            for level in SEVERITIES[name]
        }
        # A row as soon as it is measured: a full run takes minutes.
        print(family_row(name, results['corrupted'][name]), flush=True)
    summarise(results, names)
    for key in [f'mean_{g}' for g in GROUP_NAMES] + ['mean_corrupted']:
        if results[key] is not None:
            label = key.replace('_', ' ', 1)
            print(f'{label:26} {"":{WIDTH}} {results[key]:6.2f}')
    with open(osp.join(out_dir, 'robustness.json'), 'w') as f:
        json.dump(results, f, indent=2)
    plot(results, osp.join(out_dir, 'robustness.png'))
    print(f'wrote {out_dir}/robustness.json and robustness.png')


if __name__ == '__main__':
    main()
