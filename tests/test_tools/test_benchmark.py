"""tools/benchmarks/fashion_mnist.py on a tiny scale: runs, skips finished
runs, writes the tables and chart, and names bad inputs in one line."""
import json
import os.path as osp
import re
import subprocess

import torch
from mmengine.config import Config

from mmcakd.registry import MODELS
from mmcakd.utils import register_all_modules
from ..conftest import PYTHON, ROOT, run_tool

TOOL = 'tools/benchmarks/fashion_mnist.py'


def tiny_benchmark(tmp_path,
                   teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
                   name='bench.py'):
    config = tmp_path / name
    config.write_text(
        f"_base_ = '{osp.join(ROOT, 'configs/benchmarks/fashion_mnist.py')}'\n"
        f"teacher_ckpt = '{teacher_ckpt}'\n"
        f"out_dir = '{tmp_path / 'out'}'\n"
        'common_options = {\n'
        "    'train_cfg.max_epochs': 1,\n"
        "    'train_dataloader.dataset.fraction': 0.004,\n"
        "    'train_dataloader.batch_size': 110,\n"
        "    'train_dataloader.num_workers': 0,\n"
        "    'val_dataloader.num_workers': 0,\n"
        "    'val_dataloader.dataset.val_per_class': 5,\n"
        "    'default_hooks.checkpoint.save_best': None,\n"
        '}\n'
        "eval_options = {'test_dataloader.dataset.indices': 500}\n")
    return str(config)


def test_runs_skips_finished_and_reports(tmp_path, data_root):
    register_all_modules()
    config = tiny_benchmark(tmp_path)
    args = [PYTHON, TOOL, config, '--methods', 'alone', 'cakd_no_mrt',
            '--seeds', '0', '1']
    first = run_tool(args, timeout=900)
    assert first.stdout.count(': training') == 4
    out = tmp_path / 'out'
    with open(out / 'results.json') as f:
        results = json.load(f)
    assert len(results['runs']) == 4
    summary = results['summary']
    assert set(summary) == {'alone', 'cakd_no_mrt'}
    for entry in summary.values():
        assert entry['seeds'] == [0, 1]
        for key in ('val', 'test', 'noisy'):
            assert 0 <= entry[key]['mean'] <= 100 and entry[key]['std'] >= 0
    # The two seeds are different runs (their first losses differ).
    first_losses = []
    for seed in (0, 1):
        scalars, = (out / 'runs' / 'alone' / f'seed{seed}').glob(
            '*/vis_data/scalars.json')
        first_losses.append(json.loads(scalars.read_text().splitlines()[0])
                            ['loss'])
    assert first_losses[0] != first_losses[1]
    # The last epoch's diagnostics: each term's share of the distillation.
    shares = summary['cakd_no_mrt']['diagnostics']
    assert set(shares) == {'share_pca', 'share_gl'}
    assert abs(shares['share_pca'] + shares['share_gl'] - 1) < 1e-3
    assert 'diagnostics' not in summary['alone']
    assert (out / 'results.png').stat().st_size > 10000
    table = (out / 'results.md').read_text()
    assert 'student alone' in table and 'CAKD w/o MRT' in table
    # Of the weights, only each run's student is kept, as a plain
    # checkpoint of the student's own config.
    kept = sorted(p.relative_to(out) for p in out.glob('runs/*/*/*.pth'))
    assert [str(p) for p in kept] == [
        f'runs/{m}/seed{s}/student.pth' for m in ('alone', 'cakd_no_mrt')
        for s in (0, 1)]
    alone, = {r['config'] for r in results['runs'] if r['method'] == 'alone'}
    student_config = Config.fromfile(osp.join(ROOT, alone))
    for path in kept:
        student = MODELS.build(student_config.model)
        state = torch.load(out / path, weights_only=True)['state_dict']
        student.load_state_dict(state, strict=True)

    # Started again: nothing is trained twice, the tables are the same.
    again = run_tool(args, timeout=900)
    assert ': training' not in again.stdout
    with open(out / 'results.json') as f:
        assert json.load(f) == results


def test_search_never_evaluates_on_test(tmp_path, data_root):
    """A hyper-parameter search (evaluate_test=False) trains and reads the
    validation accuracy, and never opens the test sets."""
    config = tiny_benchmark(tmp_path)
    with open(config, 'a') as f:
        f.write('evaluate_test = False\n')
    run_tool([PYTHON, TOOL, config, '--methods', 'alone', '--seeds', '0'],
             timeout=900)
    out = tmp_path / 'out'
    with open(out / 'results.json') as f:
        results = json.load(f)
    run, = results['runs']
    assert 0 <= run['val'] <= 100
    assert 'test' not in run and 'noisy' not in run
    assert set(results['summary']['alone']) == {
        'label', 'seeds', 'val', 'train_seconds'}
    assert not (out / 'runs' / 'alone' / 'seed0' / 'robustness').exists()
    assert '| student alone | 1 |' in (out / 'results.md').read_text()
    assert (out / 'results.png').stat().st_size > 10000


def fails(args):
    proc = subprocess.run([PYTHON, TOOL, *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_bad_inputs_in_one_line(tmp_path):
    config = tiny_benchmark(tmp_path)
    assert "unknown method(s) ['hinton']" in fails(
        [config, '--methods', 'hinton'])
    missing = tiny_benchmark(tmp_path, teacher_ckpt='/nonexistent/t.pth',
                             name='missing.py')
    assert "teacher_ckpt '/nonexistent/t.pth' does not exist" in fails(
        [missing])
    typo = tmp_path / 'typo.py'
    typo.write_text(f"_base_ = '{config}'\ncorruptions = ['jpeg', 'snow']\n")
    assert "corruptions: unknown corruption 'snow'" in fails([str(typo)])
    unfinished = tmp_path / 'out' / 'runs' / 'kd' / 'seed0'
    unfinished.mkdir(parents=True)
    message = fails([config, '--methods', 'kd', '--seeds', '0',
                     '--report-only'])
    assert str(unfinished) in message and 'unfinished' in message


def tiny_unlabelled(tmp_path):
    config = tmp_path / 'unlabelled.py'
    config.write_text(
        "_base_ = '" + osp.join(ROOT, 'configs/benchmarks/'
                                'fashion_mnist_unlabelled.py') + "'\n"
        f"out_dir = '{tmp_path / 'out'}'\n"
        'common_options = {\n'
        "    'train_cfg.max_epochs': 1,\n"
        "    'train_dataloader.dataset.dataset.fraction': 0.004,\n"
        "    'train_dataloader.dataset.labelled_fraction': 0.1,\n"
        "    'train_dataloader.batch_size': 110,\n"
        "    'train_dataloader.num_workers': 0,\n"
        "    'val_dataloader.num_workers': 0,\n"
        "    'val_dataloader.dataset.val_per_class': 5,\n"
        "    'default_hooks.logger.interval': 1,\n"
        '}\n'
        "eval_options = {'test_dataloader.dataset.indices': 200}\n")
    return str(config)


def test_unlabelled_regime_counts_labels_and_splits_corruptions(
        tmp_path, data_root):
    """The regime's runs: the distiller logs its labelled samples per step,
    the result has held-out and seen corruption means, progress is shown."""
    config = tiny_unlabelled(tmp_path)
    proc = run_tool([PYTHON, TOOL, config, '--methods', 'alone', 'kd_views',
                     '--seeds', '0'], timeout=900)
    assert 'epoch 1/1  val top-1' in proc.stdout
    # Each logged step: the run's epoch, its iteration and mmengine's ETA.
    assert re.search(r'^    epoch 1/1  iter 1/2  eta \d+:\d\d:\d\d$',
                     proc.stdout, re.M), proc.stdout[-2000:]
    out = tmp_path / 'out'
    results = json.loads((out / 'results.json').read_text())
    for run in results['runs']:
        assert run['regime'] == 'fashion-mnist-1pct-unlabelled'
        assert 0 <= run['held_out'] <= 100 and 0 <= run['seen'] <= 100
        groups = {f['group'] for f in run['families'].values()}
        assert groups == {'seen', 'held_out'}
    # 220 images, 22 labelled: about 11 of each batch of 110 for KD.
    scalars, = (out / 'runs' / 'kd_views' / 'seed0').glob(
        '*/vis_data/scalars.json')
    logged = [json.loads(line) for line in scalars.read_text().splitlines()]
    counts = [e['num_labelled'] for e in logged if 'num_labelled' in e]
    assert counts and all(0 < c < 110 for c in counts)
    # The student alone sees only labelled samples: it has no count to log.
    assert '| student alone | 1 |' in (out / 'results.md').read_text()

    # A run directory of another regime is refused, and nothing written.
    other = out / 'runs' / 'alone' / 'seed0' / 'result.json'
    result = json.loads(other.read_text())
    other.write_text(json.dumps(dict(result, regime='fashion-mnist-10pct')))
    before = (out / 'results.json').stat().st_mtime_ns
    message = fails([config, '--methods', 'alone', '--seeds', '0',
                     '--report-only'])
    assert str(other) in message and "regime 'fashion-mnist-10pct'" in message
    assert (out / 'results.json').stat().st_mtime_ns == before
