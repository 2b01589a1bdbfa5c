"""A 2-task CAKD job through tools/slurm_train.sh and slurm_test.sh on the
local one-node cluster of tools/slurm_local/cluster.sh (`make test-slurm`)."""
import glob
import json
import os
import re

import pytest
import torch

from ..conftest import PYTHON, run_tool
from .test_train_test import TINY

CAKD = 'configs/cakd/cakd-paper_vit-tiny_resnet-tiny_fashion-mnist.py'
pytestmark = pytest.mark.slurm


def test_two_task_cakd_job_on_slurm(tmp_path, data_root):
    if not os.environ.get('SLURM_CONF'):
        pytest.fail('no cluster: run `make test-slurm`, which starts one')
    env = dict(GPUS='2', GPUS_PER_NODE='0', CPUS_PER_TASK='1',
               SRUN_ARGS='--label', PYTHON=PYTHON)
    work_dir = tmp_path / 'slurm'
    proc = run_tool(
        ['bash', 'tools/slurm_train.sh', 'debug', 'cakd', CAKD,
         str(work_dir), '--cfg-options', 'train_cfg.max_epochs=1', *TINY,
         'train_dataloader.batch_size=55', 'model.mrt.d_interval=1'],
        env=env)
    out = proc.stdout + proc.stderr
    # srun --label prefixes every line with its task: both ranks ran.
    ranks = set(re.findall(r'^\s*(\d+): ', out, flags=re.M))
    assert ranks == {'0', '1'}
    assert 'Distributed launcher: slurm' in out
    log, = glob.glob(str(work_dir / '*' / '*.log'))
    assert 'Epoch(train) [1][2/2]' in open(log).read()
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    assert int(checkpoint['state_dict']['num_steps']) == 2

    run_tool(['bash', 'tools/slurm_test.sh', 'debug', 'cakd-test', CAKD,
              str(work_dir / 'epoch_1.pth'), '--work-dir',
              str(tmp_path / 'test'), '--cfg-options',
              'test_dataloader.num_workers=0'], env=env)
    metrics_file, = glob.glob(str(tmp_path / 'test' / '*' / 'metrics.json'))
    with open(metrics_file) as f:
        assert 0 < json.load(f)['accuracy/top1'] <= 100
