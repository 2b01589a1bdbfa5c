"""The Fashion-MNIST benchmark: every method, 3 seeds, clean and noisy test.

    python tools/benchmarks/fashion_mnist.py [configs/benchmarks/fashion_mnist.py]
        [--methods kd cakd ...] [--seeds 0 1] [--report-only]

For each seed and method of the benchmark config it trains the student with
``tools/train.py`` into ``<out_dir>/runs/<method>/seed<k>`` (printing its
epoch, validation accuracy and ETA as it goes), evaluates the last epoch with
``tools/analysis_tools/robustness.py`` (clean test set and the fixed
corruptions: ``noisy`` is their mean, ``held_out`` the mean over the
families nothing in training produces, ``seen`` over those the views
produce) and writes the run's ``result.json``. Then it writes
``<out_dir>/results.json`` (every run and the mean +- std per method),
``results.md`` (the table) and ``results.png`` (the chart with error bars).
Every result names the benchmark's ``regime``; a run directory of another
regime is refused.

It can be stopped at any time and started again: finished runs (those with
a ``result.json``) are skipped, and an unfinished run resumes from its last
checkpoint (a checkpoint is written every epoch; the resume is exact).
``--report-only`` writes the tables from the finished runs and names any
unfinished run directory.
"""
import argparse
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from typing import Dict, List

from mmengine.config import Config

from mmcakd.utils.student_checkpoint import (extract_student,
                                             save_atomically, weights_only)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT = osp.join(ROOT, 'configs', 'benchmarks', 'fashion_mnist.py')
SPLITS = ('val', 'test', 'noisy', 'held_out', 'seen')
# mmengine's log lines: training progress and validation accuracy.
TRAIN_LINE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?'
                        r'eta: (\S+)')
VAL_LINE = re.compile(r'Epoch\(val\)\s*\[(\d+)\].*?accuracy/top1: ([\d.]+)')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT)
    parser.add_argument('--methods', nargs='+', help='a subset of methods')
    parser.add_argument('--seeds', nargs='+', type=int, help='a subset')
    parser.add_argument('--out-dir', help="default: the config's out_dir")
    parser.add_argument(
        '--report-only', action='store_true',
        help='only write the tables from the finished runs')
    return parser.parse_args()


class BenchmarkError(Exception):
    """A bad benchmark input, reported in one line."""


def cli_value(value) -> str:
    return 'None' if value is None else str(value)


def train(run: dict, bench: Config, seed: int, run_dir: str) -> float:
    """Train one run (resuming it if it has a checkpoint); wall seconds."""
    options = dict(bench.common_options)
    options['randomness.seed'] = seed
    cfg = Config.fromfile(osp.join(ROOT, run['config']))
    if 'teacher_ckpt' in cfg.model:
        options['model.teacher_ckpt'] = bench.teacher_ckpt
    options.update(run.get('options', {}))
    resume = osp.isfile(osp.join(run_dir, 'last_checkpoint'))
    command = [sys.executable, 'tools/train.py', run['config'],
               '--work-dir', run_dir] + (['--resume'] if resume else []) + \
        ['--cfg-options'] + [f'{k}={cli_value(v)}' for k, v in
                             options.items()]
    epochs = options.get('train_cfg.max_epochs',
                         cfg.get('train_cfg', {}).get('max_epochs', '?'))
    start = time.time()
    with open(osp.join(run_dir, 'train.out'), 'a') as log:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                errors='replace')
        for line in proc.stdout:
            log.write(line)
            progress(line, epochs)
        proc.wait()
    if proc.returncode != 0:
        raise BenchmarkError(f'training failed in {run_dir} (exit '
                             f'{proc.returncode}); see {run_dir}/train.out')
    return time.time() - start


def progress(line: str, epochs) -> None:
    """One short line per mmengine log entry: epoch, iteration, ETA of the
    run, and the validation accuracy after each epoch."""
    train_entry, val_entry = TRAIN_LINE.search(line), VAL_LINE.search(line)
    if train_entry:
        epoch, it, total, eta = train_entry.groups()
        print(f'    epoch {epoch}/{epochs}  iter {it}/{total}  eta {eta}',
              flush=True)
    elif val_entry:
        print(f'    epoch {val_entry.group(1)}/{epochs}  val top-1 '
              f'{float(val_entry.group(2)):.2f}', flush=True)


def last_val_accuracy(run_dir: str) -> float:
    """The validation accuracy at the last epoch, from mmengine's scalars."""
    found = None
    for stamp in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, stamp, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'accuracy/top1' in entry:
                    found = entry['accuracy/top1']
    if found is None:
        raise BenchmarkError(f'{run_dir}: no validation accuracy logged')
    return found


DIAGNOSTICS = ('acc_disc_', 'share_')


def last_epoch_diagnostics(run_dir: str) -> Dict[str, float]:
    """The mean over the last epoch's logged training entries of every
    diagnostic (``acc_disc_*``, ``share_*``, see CAKDDistiller); each entry
    is already the logger's window mean over recent iterations."""
    entries = []
    for stamp in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, stamp, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                entries += [e for e in map(json.loads, f) if 'epoch' in e]
    if not entries:
        return {}
    last = max(e['epoch'] for e in entries)
    entries = [e for e in entries if e['epoch'] == last]
    keys = sorted({k for e in entries for k in e if k.startswith(DIAGNOSTICS)})
    return {k: round(statistics.mean(e[k] for e in entries if k in e), 4)
            for k in keys}


def evaluate(run: dict, bench: Config, run_dir: str) -> dict:
    """Clean and noisy test accuracy of the run's last checkpoint."""
    checkpoint = robust_checkpoint(run_dir)
    out = osp.join(run_dir, 'robustness')
    options = ['test_dataloader.num_workers=0'] + [
        f'{k}={cli_value(v)}' for k, v in bench.get('eval_options',
                                                     {}).items()]
    cfg = Config.fromfile(osp.join(ROOT, run['config']))
    if 'teacher_ckpt' in cfg.model:
        options.append(f'model.teacher_ckpt={bench.teacher_ckpt}')
    options += [f'{k}={cli_value(v)}'
                for k, v in run.get('options', {}).items()]
    # The benchmark's corruption families (default: all of them).
    families = bench.get('corruptions')
    families = ['--corruptions', *families] if families else []
    with open(osp.join(run_dir, 'eval.out'), 'w') as log:
        proc = subprocess.run(
            [sys.executable, 'tools/analysis_tools/robustness.py',
             run['config'], checkpoint, '--out-dir', out, *families,
             '--cfg-options', *options], cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise BenchmarkError(f'evaluation failed in {run_dir}; see '
                             f'{run_dir}/eval.out')
    with open(osp.join(out, 'robustness.json')) as f:
        return json.load(f)


def robust_checkpoint(run_dir: str) -> str:
    """The run's last checkpoint (what was evaluated)."""
    with open(osp.join(run_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def keep_student(run: dict, checkpoint: str, run_dir: str) -> None:
    """``<run_dir>/student.pth``: the student of ``checkpoint`` as a plain
    mmpretrain checkpoint, loaded by the student's own config."""
    # A distiller (or the views wrapper) holds the classifier as `student`.
    cfg = Config.fromfile(osp.join(ROOT, run['config']))
    student = (extract_student(checkpoint) if 'student' in cfg.model else
               weights_only(checkpoint))
    save_atomically(student, osp.join(run_dir, 'student.pth'))


def run_one(name: str, bench: Config, seed: int, out_dir: str) -> dict:
    run = bench.methods[name]
    run_dir = osp.join(out_dir, 'runs', name, f'seed{seed}')
    done = osp.join(run_dir, 'result.json')
    if osp.isfile(done):
        return read_result(done, bench)
    os.makedirs(run_dir, exist_ok=True)
    print(f'[{time.strftime("%H:%M:%S")}] {name} seed {seed}: training',
          flush=True)
    seconds = train(run, bench, seed, run_dir)
    result = dict(
        method=name, label=run['label'], seed=seed, regime=bench.regime,
        config=run['config'],
        options=run.get('options', {}), val=last_val_accuracy(run_dir),
        train_seconds=round(seconds, 1))
    diagnostics = last_epoch_diagnostics(run_dir)
    if diagnostics:
        result['diagnostics'] = diagnostics
    # A hyper-parameter search (evaluate_test=False) never looks at the
    # test sets: it chooses on the validation split alone.
    if bench.get('evaluate_test', True):
        robust = evaluate(run, bench, run_dir)
        result.update(
            checkpoint=osp.basename(robust['checkpoint']),
            test=robust['clean'], noisy=robust['mean_corrupted'],
            held_out=robust['mean_held_out'], seen=robust['mean_seen'],
            families=robust['families'], corrupted=robust['corrupted'])
        # The student's weights are kept (tens of kB: seed 0's are
        # committed as the model zoo's, with train.out); the run's
        # checkpoints are not.
        keep_student(run, robust_checkpoint(run_dir), run_dir)
    with open(done, 'w') as f:
        json.dump(result, f, indent=2)
    for file in os.listdir(run_dir):
        if file.endswith('.pth') and file != 'student.pth':
            os.remove(osp.join(run_dir, file))
    scores = '  '.join(f'{key} {result[key]:.2f}'
                       for key in SPLITS if result.get(key) is not None)
    print(f'    {scores}  ({seconds:.0f} s)', flush=True)
    return result


def read_result(path: str, bench: Config) -> dict:
    """A finished run's result; one of another regime is refused."""
    with open(path) as f:
        result = json.load(f)
    if result.get('regime') != bench.regime:
        raise BenchmarkError(
            f'{path} is a run of regime {result.get("regime")!r}, not of '
            f'this benchmark\'s {bench.regime!r}: give --out-dir a folder '
            'of this regime, or delete that run')
    return result


def summarise(results: List[dict], bench: Config) -> Dict[str, dict]:
    summary = {}
    for name, run in bench.methods.items():
        rows = [r for r in results if r['method'] == name]
        if not rows:
            continue
        entry = dict(label=run['label'], seeds=[r['seed'] for r in rows])
        for key in SPLITS:
            # None: a group none of whose families was evaluated.
            values = [r[key] for r in rows if r.get(key) is not None]
            if not values:
                continue
            entry[key] = dict(
                mean=statistics.mean(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0)
        entry['train_seconds'] = statistics.mean(
            r['train_seconds'] for r in rows)
        keys = sorted({k for r in rows for k in r.get('diagnostics', {})})
        if keys:
            entry['diagnostics'] = {
                k: round(statistics.mean(r['diagnostics'][k] for r in rows
                                         if k in r.get('diagnostics', {})),
                         4) for k in keys}
        summary[name] = entry
    return summary


def table(summary: Dict[str, dict]) -> str:
    lines = [
        '| method | seeds | val top-1 (%) | test top-1 (%) | corrupted, all '
        '(%) | corrupted, held-out families (%) | corrupted, seen families '
        '(%) | train time (s) |', '|---|---|---|---|---|---|---|---|'
    ]
    for entry in summary.values():
        # A single run has no spread to show.
        spread = len(entry['seeds']) > 1
        cells = [(f'{entry[k]["mean"]:.2f} ± {entry[k]["std"]:.2f}' if spread
                  else f'{entry[k]["mean"]:.2f}')
                 if k in entry else '-' for k in SPLITS]
        lines.append(f'| {entry["label"]} | {len(entry["seeds"])} | '
                     f'{" | ".join(cells)} | {entry["train_seconds"]:.0f} |')
    return '\n'.join(lines) + '\n'


def chart(summary: Dict[str, dict], path: str, title: str) -> None:
    """Bars with error bars: the clean test set and the corrupted one
    (held-out families where every row has them, else all corruptions)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    labels = [e['label'] for e in summary.values()]
    x = range(len(labels))
    titles = dict(val='validation split', test='clean test set',
                  noisy='corrupted test set',
                  held_out='corrupted, held-out families')
    every = [k for k in SPLITS if all(k in e for e in summary.values())]
    keys = (['test', 'held_out'] if 'held_out' in every else
            [k for k in ('test', 'noisy') if k in every]) or ['val']
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 4.5),
                             squeeze=False)
    for ax, key in zip(axes[0], keys):
        means = [e[key]['mean'] for e in summary.values()]
        stds = [e[key]['std'] for e in summary.values()]
        ax.bar(x, means, yerr=stds, capsize=4, color='tab:blue', alpha=0.8)
        ax.set_xticks(list(x), labels, rotation=40, ha='right')
        ax.set_ylim(min(means) - 5, max(means) + 3)
        ax.set_ylabel('top-1 (%), mean ± std over seeds')
        ax.set_title(titles[key], fontsize=10)
        ax.grid(axis='y', alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(results: List[dict], bench: Config, out_dir: str) -> None:
    summary = summarise(results, bench)
    with open(osp.join(out_dir, 'results.json'), 'w') as f:
        json.dump(dict(summary=summary, runs=results), f, indent=2)
    text = table(summary)
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(text)
    chart(summary, osp.join(out_dir, 'results.png'), bench.title)
    print(text)
    print(f'wrote {out_dir}/results.json, results.md and results.png')


def check(args: argparse.Namespace, bench: Config) -> None:
    unknown = sorted(set(args.methods or []) - set(bench.methods))
    if unknown:
        raise BenchmarkError(f'unknown method(s) {unknown}; the benchmark '
                             f'config defines {sorted(bench.methods)}')
    families = bench.get('corruptions')
    if families is not None:
        from mmcakd.evaluation import check_families
        if isinstance(families, str) or not families:
            raise BenchmarkError(f'corruptions={families!r} must be a '
                                 'non-empty list of corruption families')
        try:
            check_families(families)
        except ValueError as err:
            raise BenchmarkError(f'corruptions: {err}') from None
    if not osp.isfile(osp.join(ROOT, bench.teacher_ckpt)):
        raise BenchmarkError(
            f'teacher_ckpt {bench.teacher_ckpt!r} does not exist: restore it '
            'with `git checkout checkpoints/` or train it with `make teacher`')


def main() -> None:
    args = parse_args()
    bench = Config.fromfile(args.config)
    out_dir = osp.join(ROOT, args.out_dir or bench.out_dir)
    methods = args.methods or list(bench.methods)
    seeds = args.seeds if args.seeds is not None else bench.seeds
    try:
        check(args, bench)
        results = []
        for seed in seeds:
            for name in methods:
                if args.report_only:
                    run_dir = osp.join(out_dir, 'runs', name, f'seed{seed}')
                    done = osp.join(run_dir, 'result.json')
                    if osp.isfile(done):
                        results.append(read_result(done, bench))
                    elif osp.isdir(run_dir):
                        raise BenchmarkError(
                            f'{run_dir} is unfinished: run the benchmark '
                            'again to resume it, or delete it')
                    continue
                results.append(run_one(name, bench, seed, out_dir))
        if not results:
            raise BenchmarkError(f'no finished run in {out_dir}/runs')
        report(results, bench, out_dir)
    except BenchmarkError as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
