"""The ImageNet CAKD configs build and take a training step on random data
(batch 2; Swin needs 224 px: its last stage must fill a 7x7 window)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample

from mmcakd.registry import MODELS
from mmcakd.utils import model_config

from ..conftest import ROOT
from .tiny import register_all_modules  # noqa: F401


@pytest.mark.parametrize('name,size,grid', [
    ('swin-t_resnet50_in1k.py', 224, (7, 7)),
    ('vit-b16_resnet50_in1k.py', 64, (4, 4)),
    ('swin-t_mobilenet-v2_in1k.py', 224, (7, 7)),
])
def test_imagenet_config_trains_one_step(name, size, grid):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cakd', name))
    assert cfg.train_cfg.max_epochs == 120
    assert cfg.param_scheduler.student.milestones == [30, 60, 90]
    assert cfg.optim_wrapper.student.optimizer.lr == 0.1
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com')
    cfg.model.teacher_ckpt = None  # no network here
    cfg.model.input_size = (3, size, size)
    cfg.model.ramp = None
    torch.manual_seed(0)
    model = MODELS.build(model_config(cfg))
    assert model.grid == grid
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    data = dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(i) for i in (3, 999)])
    first = next(model.student.backbone.parameters())
    before = first.detach().clone()
    log = model.train_step(data, wrappers)
    assert {'loss_cls', 'loss_pca', 'loss_gl', 'loss_adv'} <= set(log)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
    assert not torch.equal(before, first)
