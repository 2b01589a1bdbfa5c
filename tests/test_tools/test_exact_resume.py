"""A CAKD run killed with SIGKILL mid-epoch and resumed ends exactly where
the uninterrupted run ends (issue 6, item 1)."""
import os
import re
import signal
import subprocess
import time

import pytest
import torch

from ..conftest import PYTHON, ROOT
from .test_cakd_tools import CAKD

# 220 images at batch 55 (4 iterations an epoch, 12 in all), one data worker;
# every random part of CAKD on (views, PCA substitution, GL dropout, D every
# 3 steps, so the kill falls between two D updates); a checkpoint every
# iteration.
OPTIONS = [
    'train_cfg.max_epochs=3', 'train_cfg.val_interval=1',
    'train_dataloader.dataset.fraction=0.004',
    'train_dataloader.batch_size=55', 'train_dataloader.num_workers=1',
    'val_dataloader.num_workers=0', 'val_dataloader.dataset.val_per_class=5',
    'model.mrt.d_interval=3', 'default_hooks.checkpoint.by_epoch=False',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.checkpoint.max_keep_ckpts=20',
    'default_hooks.checkpoint.save_best=None'
]
ENV = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')


def command(work_dir, *extra):
    return [PYTHON, 'tools/train.py', CAKD, '--work-dir', str(work_dir),
            *extra, '--cfg-options', *OPTIONS]


def last_iter(work_dir) -> int:
    try:
        text = (work_dir / 'last_checkpoint').read_text()
    except FileNotFoundError:
        return 0
    found = re.search(r'iter_(\d+)\.pth', text)
    return int(found.group(1)) if found else 0


def test_killed_mid_epoch_resumes_to_the_same_weights(tmp_path, data_root):
    whole = tmp_path / 'whole'
    subprocess.run(command(whole), cwd=ROOT, env=ENV, check=True,
                   capture_output=True)

    # The same run, killed for real once iteration 6 (of epoch 2's 5-8) is
    # saved: no handler, no clean-up.
    killed = tmp_path / 'killed'
    proc = subprocess.Popen(command(killed), cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while last_iter(killed) < 6 and proc.poll() is None:
        assert time.time() < deadline, 'the run did not reach iteration 6'
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    resumed_from = last_iter(killed)
    assert resumed_from % 4, 'killed at an epoch boundary; the test wants ' \
        'mid-epoch'
    assert not (killed / 'iter_12.pth').exists()

    out = subprocess.run(command(killed, '--resume'), cwd=ROOT, env=ENV,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    done = resumed_from % 4
    assert f'Resuming epoch 2 after its first {done} iterations' in \
        out.stdout + out.stderr

    a = torch.load(whole / 'iter_12.pth', weights_only=True)
    b = torch.load(killed / 'iter_12.pth', weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 12
    assert set(a['state_dict']) == set(b['state_dict'])
    for key, value in a['state_dict'].items():
        if value.is_floating_point():
            assert torch.allclose(value, b['state_dict'][key], rtol=1e-6,
                                  atol=1e-7), key
        else:
            assert torch.equal(value, b['state_dict'][key]), key
    for part in ('student', 'discriminator'):
        for (_, x), (_, y) in zip(
                a['optimizer'][part]['state'].items(),
                b['optimizer'][part]['state'].items()):
            for name in x:
                assert torch.allclose(torch.as_tensor(x[name]),
                                      torch.as_tensor(y[name]), rtol=1e-6,
                                      atol=1e-7), (part, name)
