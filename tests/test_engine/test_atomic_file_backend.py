"""Checkpoints are written atomically: a crash while saving leaves the old
file (or none), never a truncated one under the final name."""
import os

import pytest
from mmengine.config import Config
from mmengine.fileio import get_file_backend

import mmcakd.engine  # noqa: F401 (registers the backend)
from mmcakd.engine import AtomicLocalBackend
from mmcakd.utils import set_checkpoint_defaults


def test_put_replaces_the_file_whole(tmp_path):
    path = tmp_path / 'sub' / 'epoch_1.pth'
    backend = AtomicLocalBackend()
    backend.put(b'first', path)
    backend.put(b'second', path)
    assert path.read_bytes() == b'second'
    assert os.listdir(path.parent) == ['epoch_1.pth']
    # The mode a plain open() gives, not mkstemp's private 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'epoch_1.pth'
    path.write_bytes(b'the previous checkpoint')

    def crash(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        AtomicLocalBackend().put(b'half of a new checkpoint', path)
    assert path.read_bytes() == b'the previous checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary file left


def test_train_defaults_give_the_checkpoint_hook_the_atomic_backend(tmp_path):
    cfg = Config(dict(default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', interval=1))))
    set_checkpoint_defaults(cfg)
    args = cfg.default_hooks.checkpoint.backend_args
    assert isinstance(get_file_backend(str(tmp_path), backend_args=args),
                      AtomicLocalBackend)
    # A remote out_dir keeps mmengine's choice of backend.
    remote = Config(dict(default_hooks=dict(checkpoint=dict(
        type='CheckpointHook', out_dir='s3://bucket/run'))))
    set_checkpoint_defaults(remote)
    assert 'backend_args' not in remote.default_hooks.checkpoint
