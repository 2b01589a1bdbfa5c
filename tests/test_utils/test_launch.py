import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmcakd.utils import enable_amp, set_dataloader_defaults

from ..conftest import ROOT


def test_amp_reaches_every_optimizer_of_a_distiller():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/cakd/vit-tiny_resnet-tiny_fashion-mnist.py'))
    enable_amp(cfg.optim_wrapper)
    assert cfg.optim_wrapper.constructor == 'DistillerOptimWrapperConstructor'
    for name in ('student', 'discriminator'):
        assert cfg.optim_wrapper[name].type == 'AmpOptimWrapper'
        assert cfg.optim_wrapper[name].loss_scale == 'dynamic'


def test_amp_on_a_plain_config():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/teachers/vit-tiny_fashion-mnist.py'))
    enable_amp(cfg.optim_wrapper)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'


def test_amp_without_optimizer_is_refused():
    with pytest.raises(ValueError, match='--amp'):
        enable_amp(Config(dict(optim_wrapper=dict(x=1))).optim_wrapper)


def test_dataloader_defaults_valid_without_workers():
    cfg = Config(dict(train_dataloader=dict(num_workers=0, batch_size=2)))
    set_dataloader_defaults(cfg, training=True)
    assert cfg.train_dataloader.persistent_workers is False


@pytest.mark.parametrize('backend,exits', [('gloo', True), ('nccl', False)])
def test_only_gloo_skips_the_interpreter_teardown(backend, exits,
                                                  monkeypatch):
    """finish_distributed leaves with os._exit after a gloo run only; other
    backends return, so the interpreter runs its atexit handlers."""
    import torch.distributed as dist

    from mmcakd.utils import finish_distributed
    calls = []
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_backend', lambda *a: backend)
    monkeypatch.setattr(dist, 'barrier', lambda *a: calls.append('barrier'))
    monkeypatch.setattr(dist, 'destroy_process_group',
                        lambda *a: calls.append('destroy'))

    class Exited(Exception):
        pass

    def fake_exit(code):
        raise Exited(code)

    monkeypatch.setattr(os, '_exit', fake_exit)
    if exits:
        with pytest.raises(Exited):
            finish_distributed()
    else:
        finish_distributed()
    assert calls == ['barrier', 'destroy']
