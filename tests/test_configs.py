"""Every config under configs/ loads and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmcakd.registry import MODELS
from mmcakd.utils import register_all_modules

from .conftest import ROOT

CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    # configs/benchmarks/ describe benchmarks (tools/benchmarks/), not
    # trainings; their test is tests/test_tools/test_benchmark.py.
    if '_base_' not in p and f'{osp.sep}benchmarks{osp.sep}' not in p)


def test_configs_are_found():
    assert 'configs/teachers/vit-tiny_fashion-mnist.py' in CONFIGS
    assert 'configs/students/resnet-tiny_fashion-mnist-10pct.py' in CONFIGS
    for method in ('kd', 'dkd', 'fitnet', 'rkd', 'ofa'):
        for name in ('vit-tiny_resnet-tiny_fashion-mnist.py',
                     'swin-t_resnet50_in1k.py'):
            assert f'configs/{method}/{method}_{name}' in CONFIGS


def test_config_names_are_unique():
    """The default work_dir is work_dirs/<config name>: two configs with one
    name would write into one folder, and --resume could pick up the other
    method's checkpoint. mim finds a config by its name among every file
    of configs/, bases and benchmarks included: one name, one file."""
    names = [osp.basename(p) for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)]
    assert sorted(set(names)) == sorted(names), sorted(
        n for n in set(names) if names.count(n) > 1)


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_its_model(path):
    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, path))
    assert cfg.default_scope == 'mmcakd'
    model_cfg = cfg.model
    if 'teacher_ckpt' in model_cfg:
        # No network here: the teacher's weights are tested elsewhere.
        model_cfg.teacher_ckpt = None
    if isinstance(model_cfg.get('teacher'), dict):
        model_cfg.teacher.pop('pretrained', None)  # timm's download
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert loader in cfg, f'{path} has no {loader}'


def test_fashion_mnist_models_fit_the_images():
    register_all_modules()
    for path in ('configs/teachers/vit-tiny_fashion-mnist.py',
                 'configs/students/resnet-tiny_fashion-mnist.py'):
        model = MODELS.build(Config.fromfile(osp.join(ROOT, path)).model)
        logits = model(torch.zeros(2, 1, 28, 28), mode='tensor')
        assert logits.shape == (2, 10)


def test_fashion_mnist_cakd_default_is_the_choice_made_on_val():
    """The default CAKD config of the Fashion-MNIST pair is the paper form
    plus the release's logit MSE, without MRT (the benchmark's val choice);
    the paper and release forms keep their own configs."""
    def model(name):
        return Config.fromfile(
            osp.join(ROOT, 'configs', 'cakd', name)).model

    default = model('vit-tiny_resnet-tiny_fashion-mnist.py')
    paper = model('cakd-paper_vit-tiny_resnet-tiny_fashion-mnist.py')
    release = model('cakd-release_vit-tiny_resnet-tiny_fashion-mnist.py')
    assert default.projectors.logit.loss == dict(
        type='LogitLoss', form='mse', loss_weight=1.0)
    assert default.mrt is None
    for key in ('teacher', 'teacher_ckpt', 'student', 'student_stage'):
        assert default[key] == paper[key], key
    for key in ('pca', 'gl'):
        assert default.projectors[key] == paper.projectors[key], key
    assert 'logit' not in paper.projectors and paper.mrt is not None
    assert release.projectors.pca.target == 'map'
    assert release.ramp.max_weight == 0.2
