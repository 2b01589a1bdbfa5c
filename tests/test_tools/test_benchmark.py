"""tools/benchmarks/fashion_mnist.py on a tiny scale: runs, skips finished
runs, writes the tables and chart, and names bad inputs in one line."""
import json
import os.path as osp
import subprocess

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
    assert not list(out.glob('runs/*/*/*.pth'))  # weights not kept

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
    unfinished = tmp_path / 'out' / 'runs' / 'kd' / 'seed0'
    unfinished.mkdir(parents=True)
    message = fails([config, '--methods', 'kd', '--seeds', '0',
                     '--report-only'])
    assert str(unfinished) in message and 'unfinished' in message
