"""tools/train.py: a corrupt latest checkpoint is skipped on --resume, and
the checks before training hand the model and datasets they built to the
runner (each built once)."""
import importlib.util
import os.path as osp

import torch

from mmcakd.datasets import FashionMNISTSplit
from mmcakd.models.utils import checkpoint as checkpoint_module

from ..conftest import PYTHON, ROOT, run_tool
from .test_cakd_tools import CAKD
from .test_train_test import STUDENT, TINY


def test_resume_skips_a_truncated_latest_checkpoint(tmp_path, data_root):
    work_dir = tmp_path / 'run'
    options = ['--cfg-options', *TINY, 'default_hooks.checkpoint.interval=1',
               'default_hooks.checkpoint.max_keep_ckpts=3']
    run_tool([PYTHON, 'tools/train.py', STUDENT, '--work-dir', str(work_dir),
              *options, 'train_cfg.max_epochs=2'])
    latest = work_dir / 'epoch_2.pth'
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith(
        'epoch_2.pth')
    # Truncated by hand (an atomic save never leaves it so).
    latest.write_bytes(latest.read_bytes()[:5000])

    proc = run_tool([PYTHON, 'tools/train.py', STUDENT, '--work-dir',
                     str(work_dir), '--resume', *options,
                     'train_cfg.max_epochs=3'])
    out = proc.stdout + proc.stderr
    warning = next(line for line in out.splitlines()
                   if 'the latest checkpoint' in line)
    assert str(latest) in warning and str(work_dir / 'epoch_1.pth') in \
        warning
    assert 'resumed epoch: 1, iter: 2' in out
    final = torch.load(work_dir / 'epoch_3.pth', weights_only=True)
    assert final['meta']['epoch'] == 3 and final['meta']['iter'] == 6
    assert torch.load(latest, weights_only=True)['meta']['epoch'] == 2


def load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_and_datasets_are_built_once(tmp_path, data_root,
                                           monkeypatch):
    """A whole CAKD run: each dataset is built once, and the teacher's
    weights are read once."""
    built, reads = [], []
    init = FashionMNISTSplit.__init__

    def counting_init(self, *args, **kwargs):
        built.append(kwargs.get('split'))
        init(self, *args, **kwargs)

    read = checkpoint_module.load_checkpoint_file

    def counting_read(source, field):
        reads.append(field)
        return read(source, field)

    monkeypatch.setattr(FashionMNISTSplit, '__init__', counting_init)
    monkeypatch.setattr(checkpoint_module, 'load_checkpoint_file',
                        counting_read)
    monkeypatch.chdir(ROOT)
    train = load_train_tool()
    monkeypatch.setattr('sys.argv', [
        'train.py', CAKD, '--work-dir', str(tmp_path / 'run'),
        '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.checkpoint.save_best=None', *TINY])
    args = train.parse_args()
    train.register_all_modules(init_default_scope=False)
    runner = train.prepare_runner(args)
    runner.train()
    assert sorted(built) == ['train', 'val']
    assert reads == ['teacher_ckpt']
    assert (tmp_path / 'run' / 'epoch_1.pth').is_file()
