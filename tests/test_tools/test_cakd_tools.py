"""CAKD through tools/train.py, --resume, tools/test.py and DDP (gloo)."""
import glob
import json

import torch

from ..conftest import PYTHON, free_port, run_tool
from .test_train_test import TINY

CAKD = 'configs/cakd/vit-tiny_resnet-tiny_fashion-mnist.py'


def test_cakd_trains_resumes_and_tests(tmp_path, data_root):
    work_dir = tmp_path / 'cakd'
    args = [PYTHON, 'tools/train.py', CAKD, '--work-dir', str(work_dir)]
    run_tool(args + ['--cfg-options', 'train_cfg.max_epochs=1', *TINY,
                     'model.mrt.d_interval=2'])
    first = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    assert int(first['state_dict']['num_steps']) == 2
    assert set(first['optimizer']) == {'student', 'discriminator'}
    assert not any(k.startswith('teacher.') for k in first['optimizer'])
    log, = glob.glob(str(work_dir / '*' / '*.log'))
    text = open(log).read()
    for name in ('loss_cls', 'loss_pca', 'loss_gl', 'loss_adv', 'loss_disc'):
        assert name in text

    proc = run_tool(args + ['--resume', '--cfg-options',
                            'train_cfg.max_epochs=2', *TINY,
                            'model.mrt.d_interval=2'])
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr
    second = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert int(second['state_dict']['num_steps']) == 4

    test_dir = tmp_path / 'test'
    run_tool([PYTHON, 'tools/test.py', CAKD, str(work_dir / 'epoch_2.pth'),
              '--work-dir', str(test_dir), '--eval-teacher', '--cfg-options',
              'test_dataloader.num_workers=0'])
    metrics_file, = glob.glob(str(test_dir / '*' / 'metrics.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    # The committed teacher is far better than a 4-step student.
    assert metrics['teacher/accuracy/top1'] > 80
    assert metrics['accuracy/top1'] < metrics['teacher/accuracy/top1']


def test_cakd_ddp_two_processes_on_cpu(tmp_path, data_root):
    work_dir = tmp_path / 'ddp'
    run_tool(
        ['bash', 'tools/dist_train.sh', CAKD, '2', '--work-dir',
         str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1', *TINY,
         'train_dataloader.batch_size=55', 'model.mrt.d_interval=1'],
        env=dict(PYTHON=PYTHON, PORT=free_port()))
    log, = glob.glob(str(work_dir / '*' / '*.log'))
    text = open(log).read()
    assert 'Epoch(train) [1][2/2]' in text and 'loss_disc' in text
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    # Saved without DDP's `module.` prefixes, loadable by a single process.
    assert 'student.backbone.conv1.weight' in checkpoint['state_dict']
    assert 'gl.weight' in checkpoint['state_dict']
