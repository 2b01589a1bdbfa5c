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


def test_imagenet_release_config_is_the_release_preset():
    """The release form on ImageNet: the preset's method options, the main
    pair's models and schedule; one step builds every release term."""
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'cakd', 'cakd-release_vit-b16_resnet50_in1k.py'))
    preset = Config.fromfile(osp.join(
        ROOT, 'configs', '_base_', 'distillers', 'cakd_release.py'))
    paper = Config.fromfile(
        osp.join(ROOT, 'configs', 'cakd', 'vit-b16_resnet50_in1k.py'))
    for key in ('projectors', 'mrt', 'ramp'):
        assert cfg.model[key] == preset.model[key], key
    for key in ('teacher', 'teacher_ckpt', 'student', 'student_stage'):
        assert cfg.model[key] == paper.model[key], key
    assert cfg.train_cfg == paper.train_cfg
    assert cfg.param_scheduler == paper.param_scheduler
    cfg.model.teacher_ckpt = None  # no network here
    cfg.model.input_size = (3, 64, 64)
    torch.manual_seed(0)
    model = MODELS.build(model_config(cfg))
    assert model.cls_token.proj.in_features == 2048  # ResNet-50's GAP
    assert model.cls_token.proj.out_features == 768  # ViT-B's class token
    losses = model(**model.data_preprocessor(dict(
        inputs=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(i) for i in (3, 999)]),
        True), mode='loss')
    assert {'loss_logit', 'loss_cls_token', 'loss_pca'} <= set(losses)


@pytest.mark.parametrize('method,keys', [
    ('kd', {'loss_kd'}),
    ('dkd', {'loss_dkd'}),
    ('fitnet', {'loss_fitnet'}),
    ('rkd', {'loss_rkd'}),
    ('ofa', {'loss_ofa', 'loss_ofa_exits'}),
])
def test_imagenet_baseline_config_trains_one_step(method, keys):
    """The baselines' Swin-T -> ResNet-50 configs: CAKD's schedule, one
    student optimizer, one step on random 224 px data."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', method, f'{method}_swin-t_resnet50_in1k.py'))
    cakd = Config.fromfile(
        osp.join(ROOT, 'configs', 'cakd', 'swin-t_resnet50_in1k.py'))
    assert cfg.model.teacher == cakd.model.teacher
    assert cfg.model.teacher_ckpt == cakd.model.teacher_ckpt
    assert cfg.model.student == cakd.model.student
    assert cfg.train_cfg == cakd.train_cfg
    assert cfg.param_scheduler.student == cakd.param_scheduler.student
    assert cfg.optim_wrapper.student == cakd.optim_wrapper.student
    assert cfg.train_dataloader.batch_size == 32
    cfg.model.teacher_ckpt = None  # no network here
    torch.manual_seed(0)
    model = MODELS.build(model_config(cfg))
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    assert set(wrappers.keys()) == {'student'}
    data = dict(
        inputs=[torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(i) for i in (3, 999)])
    first = next(model.student.backbone.parameters())
    before = first.detach().clone()
    log = model.train_step(data, wrappers)
    assert set(log) == {'loss', 'loss_cls', 'num_labelled'} | keys
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
    assert not torch.equal(before, first)


def test_imagenet_timm_teacher_config_trains_one_step():
    """The timm-teacher config: timm's ViT-B/16 fetched by timm itself
    (pretrained=True, no teacher_ckpt), normalised as timm trained it; one
    step at 64 px with random weights (no network here)."""
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'cakd', 'timm-vit-b16_resnet50_in1k.py'))
    teacher = cfg.model.teacher
    assert teacher.type == 'TimmClassifier' and teacher.pretrained is True
    assert cfg.model.teacher_ckpt is None
    assert cfg.model.data_preprocessor.mean == [127.5] * 3
    assert cfg.train_cfg.max_epochs == 120
    teacher.pretrained = False
    teacher.img_size = 64
    cfg.model.ramp = None
    torch.manual_seed(0)
    model = MODELS.build(model_config(cfg))
    assert model.grid == (4, 4) and model.reader.prefix == 1
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    log = model.train_step(dict(
        inputs=[torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(i) for i in (3, 999)]),
        wrappers)
    assert {'loss_cls', 'loss_pca', 'loss_gl', 'loss_adv'} <= set(log)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
