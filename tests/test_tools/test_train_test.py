"""tools/train.py, --resume, tools/test.py and tools/dist_train.sh for real."""
import glob
import json
import os.path as osp
import subprocess

import pytest
import torch

from mmcakd.evaluation import FAMILIES

from ..conftest import PYTHON, ROOT, free_port, run_tool

STUDENT = 'configs/students/resnet-tiny_fashion-mnist.py'
# 220 training images at batch 110: two iterations per epoch; a small val set.
TINY = [
    'train_dataloader.dataset.fraction=0.004',
    'train_dataloader.batch_size=110', 'train_dataloader.num_workers=0',
    'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
    'val_dataloader.dataset.val_per_class=20'
]


def train(work_dir, *extra, epochs=1):
    return run_tool([
        PYTHON, 'tools/train.py', STUDENT, '--work-dir', str(work_dir),
        *extra, '--cfg-options', f'train_cfg.max_epochs={epochs}', *TINY
    ])


def test_train_resume_and_test(tmp_path, data_root):
    work_dir = tmp_path / 'run'
    train(work_dir)
    first = work_dir / 'epoch_1.pth'
    assert first.is_file()
    # The runner's own checkpoint loads with torch's safe loader.
    checkpoint = torch.load(first, weights_only=True)
    assert checkpoint['meta']['iter'] == 2

    proc = train(work_dir, '--resume', epochs=2)
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr
    second = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert second['meta']['iter'] == 4

    test_dir = tmp_path / 'test'
    run_tool([
        PYTHON, 'tools/test.py', STUDENT,
        str(work_dir / 'epoch_2.pth'), '--work-dir',
        str(test_dir), '--cfg-options', 'test_dataloader.num_workers=0'
    ])
    metrics_file, = glob.glob(str(test_dir / '*' / 'metrics.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    assert 0 < metrics['accuracy/top1'] <= 100
    log, = glob.glob(str(test_dir / '*' / '*.log'))
    # 10,000 test images at batch 500 are 20 iterations.
    assert 'Epoch(test) [20/20]' in open(log).read()

    # The robustness tool: clean accuracy as tools/test.py, deterministic
    # corruptions, a JSON and a PNG.
    runs = []
    for name in ('a', 'b'):
        run_tool([PYTHON, 'tools/analysis_tools/robustness.py', STUDENT,
                  str(work_dir / 'epoch_2.pth'), '--out-dir',
                  str(tmp_path / name), '--cfg-options',
                  'test_dataloader.num_workers=0'])
        with open(tmp_path / name / 'robustness.json') as f:
            runs.append(json.load(f))
    assert runs[0]['clean'] == pytest.approx(metrics['accuracy/top1'], abs=1e-4)
    assert runs[0] == dict(runs[1], config=runs[0]['config'])
    assert set(runs[0]['corrupted']) == set(FAMILIES)
    groups = {f['group'] for f in runs[0]['families'].values()}
    assert groups == {'seen', 'held_out'}
    assert (tmp_path / 'a' / 'robustness.png').stat().st_size > 10000


def test_work_dir_that_is_a_file_is_refused(tmp_path, data_root):
    path = tmp_path / 'file'
    path.write_text('keep me')
    proc = subprocess.run(
        [PYTHON, 'tools/train.py', STUDENT, '--work-dir', str(path)],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'is a file' in proc.stderr and '--work-dir' in proc.stderr
    assert path.read_text() == 'keep me'


def test_dist_train_two_processes_on_cpu(tmp_path, data_root):
    work_dir = tmp_path / 'ddp'
    run_tool(
        ['bash', 'tools/dist_train.sh', STUDENT, '2', '--work-dir',
         str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1', *TINY,
         'train_dataloader.batch_size=55'],
        env=dict(PYTHON=PYTHON, PORT=free_port()))
    log, = glob.glob(str(work_dir / '*' / '*.log'))
    text = open(log).read()
    assert 'world_size: 2' in text or 'Distributed launcher: pytorch' in text
    # 220 images over 2 ranks at 55 per rank: 2 iterations per epoch.
    assert 'Epoch(train) [1][2/2]' in text
    assert osp.isfile(work_dir / 'epoch_1.pth')


def test_nan_loss_stops_training_and_keeps_last_good_checkpoint(
        tmp_path, data_root):
    work_dir = tmp_path / 'nan'
    # An absurd learning rate: the first update diverges, so the second
    # iteration's loss is not finite. Checkpoints are written every iteration.
    proc = subprocess.run(
        [PYTHON, 'tools/train.py', STUDENT, '--work-dir', str(work_dir),
         '--cfg-options', 'train_cfg.max_epochs=1', *TINY,
         'optim_wrapper.optimizer.lr=1e30',
         'default_hooks.checkpoint.by_epoch=False',
         'default_hooks.checkpoint.interval=1'],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith('FloatingPointError: loss')
    assert 'at iteration 2' in error and 'iter_1.pth' in error
    assert not (work_dir / 'iter_2.pth').exists()
    good = torch.load(work_dir / 'iter_1.pth', weights_only=True)
    assert all(torch.isfinite(v).all() for v in good['state_dict'].values()
               if v.is_floating_point())


@pytest.mark.parametrize('script,args', [
    ('dist_train.sh', ['cfg.py']),
    ('dist_test.sh', ['cfg.py', 'ckpt.pth']),
    ('slurm_train.sh', ['partition', 'job', 'cfg.py']),
    ('slurm_test.sh', ['partition', 'job', 'cfg.py']),
])
def test_launch_scripts_print_their_usage(script, args):
    """Too few arguments: the usage line, exit 2, nothing launched."""
    out = subprocess.run(['bash', osp.join(ROOT, 'tools', script), *args],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr == f'usage: tools/{script} ' + {
        'dist_train.sh': 'CONFIG NPROC [ARGS]\n',
        'dist_test.sh': 'CONFIG CHECKPOINT NPROC [ARGS]\n',
        'slurm_train.sh': 'PARTITION JOB_NAME CONFIG WORK_DIR [ARGS]\n',
        'slurm_test.sh': 'PARTITION JOB_NAME CONFIG CHECKPOINT [ARGS]\n',
    }[script]
    assert out.stdout == ''


@pytest.mark.parametrize('option,words', [
    ('test_dataloader.batch_size=0', 'test_dataloader.batch_size=0 must be'),
    ('test_evaluator.type=Acuracy', "closest: Accuracy"),
    ('test_dataloader.num_workers=-1', 'test_dataloader.num_workers=-1'),
])
def test_test_tool_reports_bad_test_fields_in_one_line(option, words):
    """tools/test.py checks what it reads, as tools/train.py does: one line,
    before the model is evaluated."""
    out = subprocess.run(
        [PYTHON, 'tools/test.py',
         'configs/cakd/vit-tiny_resnet-small_fashion-mnist-1pct.py',
         'checkpoints/vit-tiny_fashion-mnist.pth', '--cfg-options', option],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], out.stderr[-2000:]


@pytest.mark.parametrize('checkpoint,words', [
    ('checkpoints/vit-tiny_fashion-mnist.pth',
     "does not fit the configured model: 77 missing keys (e.g. "
     'backbone.bn1.bias); 56 unexpected keys'),
    ('/nonexistent/epoch_1.pth', "checkpoint='/nonexistent/epoch_1.pth' does "
     'not exist'),
    ('README.md', 'is a text file, not a torch checkpoint'),
])
def test_test_tool_refuses_a_checkpoint_that_does_not_fit(
        tmp_path, checkpoint, words):
    """A checkpoint of another model (here the ViT teacher's weights for
    the ResNet student's config), which mmengine would load non-strictly
    and evaluate with random weights, or no checkpoint at all: one line,
    and nothing written."""
    out = subprocess.run(
        [PYTHON, 'tools/test.py', STUDENT, checkpoint, '--work-dir',
         str(tmp_path / 'test')],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], out.stderr[-2000:]
    assert not (tmp_path / 'test').exists()
