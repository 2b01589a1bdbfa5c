"""Tiny real mmpretrain models for fast unit tests."""
import copy

import torch
from mmpretrain.structures import DataSample

from mmcakd.registry import MODELS
from mmcakd.utils import register_all_modules

register_all_modules()


def vit(img=16, patch=4, dims=32, heads=2, in_channels=1, classes=5):
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='VisionTransformer',
            arch=dict(embed_dims=dims, num_layers=2, num_heads=heads,
                      feedforward_channels=2 * dims),
            img_size=img, patch_size=patch, in_channels=in_channels,
            drop_path_rate=0.1),
        head=dict(type='VisionTransformerClsHead', num_classes=classes,
                  in_channels=dims))


def deit(img=16, dims=32, classes=5):
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='DistilledVisionTransformer',
            arch=dict(embed_dims=dims, num_layers=2, num_heads=2,
                      feedforward_channels=2 * dims),
            img_size=img, patch_size=4, in_channels=1),
        head=dict(type='DeiTClsHead', num_classes=classes, in_channels=dims))


def swin(img=32, classes=5):
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='SwinTransformer',
            arch=dict(embed_dims=16, depths=[1, 1], num_heads=[1, 2]),
            img_size=img, in_channels=1, window_size=4, out_indices=(1, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=classes, in_channels=32))


def resnet(classes=5, width=8):
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR', depth=18, num_stages=3, in_channels=1,
            stem_channels=width, base_channels=width, strides=(1, 2, 2),
            dilations=(1, 1, 1), out_indices=(2, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=classes,
                  in_channels=4 * width))


# CAKD's projectors as configs/_base_/distillers/cakd.py sets them.
PROJECTORS = dict(
    pca=dict(type='PCAProjector', p=0.5, teacher_attn='paper',
             loss=dict(type='PCALoss', attn_weight=0.2, vv_weight=0.05)),
    gl=dict(type='GLProjector', group_size=4, dropout=0.1,
            loss=dict(type='GLLoss', loss_weight=0.05)),
    logit=None,
    cls_token=None)
# What an entry switched on by a test starts from.
RELEASE = dict(
    logit=dict(type='LogitProjector', loss=dict(type='LogitLoss')),
    cls_token=dict(type='ClassTokenProjector',
                   loss=dict(type='ClassTokenLoss')))


def projectors(**entries):
    """PROJECTORS with ``entries`` merged in as a config's ``_base_``
    would merge them: None switches one off, a dict updates its options
    (and ``loss`` its loss's)."""
    out = copy.deepcopy(PROJECTORS)
    for name, cfg in entries.items():
        if cfg is None:
            out[name] = None
            continue
        base = copy.deepcopy(out.get(name) or RELEASE.get(name) or {})
        cfg = dict(cfg)
        base.setdefault('loss', {}).update(cfg.pop('loss', {}))
        base.update(cfg)
        out[name] = base
    return out


def distiller(teacher=None, student=None, stage='backbone.layer3', **kwargs):
    """A tiny CAKD distiller. Keywords named after a projector (``pca``,
    ``gl``, ``logit``, ``cls_token``) are :func:`projectors` entries; the
    rest are the distiller's own."""
    entries = {name: kwargs.pop(name) for name in PROJECTORS
               if name in kwargs}
    cfg = dict(
        type='CAKDDistiller',
        teacher=teacher or vit(),
        student=student or resnet(),
        student_stage=stage,
        projectors=projectors(**entries),
        mrt=dict(d_interval=2),
        data_preprocessor=dict(num_classes=5, mean=[0.0], std=[1.0]))
    cfg.update(kwargs)
    return MODELS.build(copy.deepcopy(cfg))


def batch(n=4, size=16, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[(torch.rand(1, size, size, generator=g) * 255)
                for _ in range(n)],
        data_samples=[DataSample().set_gt_label(i % classes)
                      for i in range(n)])


def timm(name, img=(16, 24), classes=5, **kwargs):
    """A tiny timm model through mmpretrain's TimmClassifier (random
    weights; ``img`` is (H, W))."""
    return dict(type='TimmClassifier', model_name=name, pretrained=False,
                img_size=img, in_chans=1, num_classes=classes, **kwargs)


def timm_vit(name='vit_tiny_patch16_224', img=(16, 24), **kwargs):
    arch = dict(patch_size=4, embed_dim=32, depth=2, num_heads=2)
    arch.update(kwargs)
    return timm(name, img, **arch)


def timm_swin(img=(32, 48)):
    return timm('swin_tiny_patch4_window7_224', img, embed_dim=16,
                depths=(1, 1), num_heads=(1, 2), window_size=4)


def image_batch(n=4, size=(16, 24), classes=5, seed=0):
    """Like :func:`batch`, with (H, W) images."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[(torch.rand(1, *size, generator=g) * 255) for _ in range(n)],
        data_samples=[DataSample().set_gt_label(i % classes)
                      for i in range(n)])
