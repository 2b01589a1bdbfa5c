"""The speed switches (``model.accel``) are accuracy-neutral (issue 7).

Against the eager fp32 teacher, on real Fashion-MNIST test images and the
committed teacher:

- fp32 switches (inference mode, channels-last, compiled regions, the
  explicit attention kernel, oneDNN linear layers; kept memory and fused
  optimizers are on too but touch no teacher output):
  teacher logits, tokens, Q/K/V and attention equal within 1e-4 (absolute);
- with the teacher in bf16 on top (each attention kernel): relative
  error (Frobenius) <= 2% for every tensor, and top-1 predictions agree
  on >= 99.5% of 1,000 images;
- a short CAKD run, all switches against none (fused optimizers against
  for-loop ones included; the bf16 teacher where the CPU has native
  bf16): every loss term within 2% (relative) at every step. (Fused
  optimizers alone, in fp32: tests/test_models/test_cakd_distiller.py.)
  The student's convolutions alone channels-last
  (``channels_last='conv'``), in fp32: every loss term within 1e-4 over 3
  steps.
"""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmcakd.datasets import FashionMNISTSplit
from mmcakd.engine import DistillerOptimWrapperConstructor
from mmcakd.cpu import Acceleration
from mmcakd.cpu.attention import explicit_attention
from mmcakd.cpu.conv_layout import ChannelsLastConv2d
from mmcakd.cpu.onednn_linear import OneDNNLinear
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules

from ..conftest import ROOT

CAKD = osp.join(ROOT, 'configs', 'cakd',
                'cakd-paper_vit-tiny_resnet-tiny_fashion-mnist.py')
FP32 = dict(inference_mode=True, channels_last=True, compile_teacher=True,
            keep_cpu_memory=True, fused_optimizer=True,
            attention='explicit', onednn_linear=True)
BF16 = dict(FP32, teacher_dtype='bf16')
needs_bf16 = pytest.mark.skipif(
    not torch.ops.mkldnn._is_mkldnn_bf16_supported(),
    reason='this CPU has no native bf16')

register_all_modules()


def distiller(accel, **model):
    cfg = Config.fromfile(CAKD)
    plain = dict(inference_mode=False, channels_last=False,
                 teacher_dtype=None, keep_cpu_memory=False,
                 fused_optimizer=False, attention='sdpa',
                 onednn_linear=False)
    cfg.model.accel = dict(plain, **accel)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model.items()})
    torch.manual_seed(0)
    return MODELS.build(model_config(cfg))


def fashion_images(data_root, n):
    data = FashionMNISTSplit(data_root, split='test', pipeline=[
        dict(type='PackInputs')])
    batch = dict(inputs=[data[i]['inputs'] for i in range(n)],
                 data_samples=[data[i]['data_samples'] for i in range(n)])
    return batch


def teacher_outputs(model, batch):
    inputs = model.data_preprocessor(batch, False)['inputs']
    return model.run_teacher(model.reader, inputs)


@pytest.fixture(scope='module')
def reference(data_root):
    model = distiller({})
    batch = fashion_images(data_root, 1000)
    return batch, teacher_outputs(model, batch)


def relative_error(a, b):
    return float((a - b).norm() / b.norm())


def test_fp32_switches_change_nothing(reference):
    batch, ref = reference
    model = distiller(FP32)
    out = teacher_outputs(model, batch)
    assert any(m._compiled_call_impl is not None
               for m in model.teacher.modules())
    assert model.teacher.backbone.patch_embed.projection.weight \
        .is_contiguous(memory_format=torch.channels_last)
    assert model.reader.kernel is explicit_attention
    assert model.pca.kernel is explicit_attention
    assert all(m.attn.scaled_dot_product_attention is explicit_attention
               for m in model.teacher.backbone.layers)
    # Every nn.Linear of the distiller, the teacher's included.
    assert all(type(m) is OneDNNLinear for m in model.modules()
               if isinstance(m, torch.nn.Linear))
    assert isinstance(model.teacher.backbone.layers[0].attn.qkv,
                      OneDNNLinear)
    for name in ('logits', 'tokens', 'q', 'k', 'v', 'attn', 'relation'):
        a, b = getattr(out, name), getattr(ref, name)
        assert a.dtype == torch.float32 and not a.is_inference()
        assert torch.allclose(a, b, atol=1e-4), name


@needs_bf16
@pytest.mark.parametrize('kernel', ['explicit', 'sdpa', 'auto'])
def test_bf16_teacher_is_close_and_predicts_the_same(reference, kernel):
    batch, ref = reference
    out = teacher_outputs(
        distiller(dict(BF16, attention=kernel)), batch)
    for name in ('logits', 'tokens', 'q', 'k', 'v', 'attn', 'relation'):
        assert getattr(out, name).dtype == torch.float32
        assert relative_error(getattr(out, name), getattr(ref, name)) <= \
            0.02, name
    agree = (out.logits.argmax(1) == ref.logits.argmax(1)).float().mean()
    assert agree >= 0.995, float(agree)


def test_short_cakd_run_reaches_the_same_losses(data_root):
    batch = fashion_images(data_root, 32)
    options = dict(mrt=dict(views=None, d_interval=1),
                   projectors=dict(gl=dict(dropout=0.0), pca=dict(p=0.0)))
    # Every switch this CPU can honour (the bf16 teacher where it is
    # native).
    fast = BF16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else FP32
    runs = []
    for accel in ({}, dict(fast, compile_student=True)):
        model = distiller(accel, **options).train()
        wrappers = DistillerOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.05)),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-4))))(model)
        runs.append([model.train_step(batch, wrappers) for _ in range(3)])
    for plain, fast in zip(*runs):
        for name in plain:
            assert relative_error(fast[name], plain[name]) <= 0.02, name


def test_conv_layout_trains_the_student_the_same(data_root):
    # channels_last='conv': the student's convolutions only, in fp32.
    batch = fashion_images(data_root, 32)
    options = dict(mrt=dict(views=None, d_interval=1),
                   projectors=dict(gl=dict(dropout=0.0), pca=dict(p=0.0)))
    runs = []
    for layout in (False, 'conv'):
        model = distiller(dict(channels_last=layout), **options).train()
        wrappers = DistillerOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.05)),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-4))))(model)
        runs.append([model.train_step(batch, wrappers) for _ in range(3)])
    convs = [type(m) for m in model.modules() if isinstance(m, nn.Conv2d)]
    student = [type(m) for m in model.student.modules()
               if isinstance(m, nn.Conv2d)]
    assert student and set(student) == {ChannelsLastConv2d}
    assert convs.count(ChannelsLastConv2d) == len(student)
    for plain, fast in zip(*runs):
        for name in plain:
            assert relative_error(fast[name], plain[name]) <= 1e-4, name


def test_unsupported_switch_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported',
                        lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        accel = Acceleration(teacher_dtype='bf16')
    assert accel.teacher_dtype is None
    assert len(caught) == 1 and 'accel.teacher_dtype' in str(
        caught[0].message)


def test_onednn_linear_without_onednn_falls_back_with_one_warning(
        monkeypatch):
    monkeypatch.setattr(torch.backends.mkldnn, 'is_available', lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        accel = Acceleration(onednn_linear=True)
    assert accel.onednn_linear is False
    assert len(caught) == 1 and 'accel.onednn_linear' in str(
        caught[0].message)


@pytest.mark.parametrize('kwargs,field', [
    (dict(teacher_dtype='int8'), 'accel.teacher_dtype'),
    (dict(channels_last='yes'), 'accel.channels_last'),
    (dict(channels_last=1), 'accel.channels_last'),
    (dict(compile_teacher=1), 'accel.compile_teacher'),
    (dict(keep_cpu_memory='yes'), 'accel.keep_cpu_memory'),
    (dict(attention='flash'), 'accel.attention'),
    (dict(onednn_linear='yes'), 'accel.onednn_linear'),
])
def test_bad_switch_names_its_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        Acceleration(**kwargs)


def test_unknown_switch_is_named():
    # e.g. a config written for the switch's former name
    with pytest.raises(ValueError, match=r"unknown switch\(es\) "
                       r"\['teacher_attention'\].*'attention'"):
        Acceleration.from_config(dict(teacher_attention='sdpa'))
    assert Acceleration.from_config(None).attention == 'auto'


def swapped_classes(model: nn.Module) -> set:
    """The CPU workaround classes in ``model``."""
    return {type(m).__name__ for m in model.modules()
            if isinstance(m, (ChannelsLastConv2d, OneDNNLinear))}


@pytest.mark.parametrize('cuda', [False, True], ids=['cpu', 'cuda'])
def test_each_devices_defaults_swap_only_what_they_should(monkeypatch, cuda):
    """The default switches with the device reported as CPU and as CUDA
    (a CPU tensor stands in for the GPU's): on CPU the oneDNN linear layers
    after the first step and nothing else; on CUDA no CPU workaround class
    at all, channels-last by torch's own memory format, the teacher in bf16
    under torch's autocast."""
    from ..test_models.tiny import batch, distiller
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no switch falls back
        model = distiller(mrt=None, accel=dict())
    accel = model.accel
    assert accel.device == ('cuda' if cuda else 'cpu')
    assert swapped_classes(model) == set()
    accel.prepare(model)  # what the first training step does
    if cuda:
        assert (accel.channels_last, accel.teacher_dtype,
                accel.onednn_linear) == (True, 'bf16', False)
        assert swapped_classes(model) == set()
        assert type(model.student.backbone.conv1) is nn.Conv2d
        weight = model.student.backbone.conv1.weight
        assert weight.is_contiguous(memory_format=torch.channels_last)
    else:
        assert (accel.channels_last, accel.teacher_dtype,
                accel.onednn_linear) == (False, None, True)
        assert swapped_classes(model) == {'OneDNNLinear'}
        model.train_step(batch(), DistillerOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1))))(model))


@pytest.mark.parametrize('switch', [dict(channels_last='conv'),
                                    dict(onednn_linear=True)])
def test_cpu_switches_are_refused_on_cuda(monkeypatch, switch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    with pytest.warns(UserWarning, match='CPU'):
        accel = Acceleration(**switch)
    assert accel.channels_last in (True, ) and accel.onednn_linear is False


def test_the_core_never_imports_the_cpu_package():
    """mmcakd.cpu may import the core, never the other way: a distiller
    without ``model.accel`` runs plain torch and leaves it unloaded."""
    import subprocess
    import sys
    probe = ('import sys; from tests.test_models.tiny import distiller; '
             'import mmcakd.models, mmcakd.utils; m = distiller(mrt=None); '
             "assert m.accel is None and m.teacher_dtype is None; "
             "print(sorted(k for k in sys.modules "
             "if k.startswith('mmcakd.cpu')))")
    out = subprocess.run([sys.executable, '-c', probe], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split('\n')[-2] == '[]'


def test_the_device_the_defaults_are_chosen_for(monkeypatch):
    """A CPU run on a machine with a GPU says so (accel.device): it gets
    the CPU's defaults; a bad value or a non-dict accel is named."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    accel = Acceleration(device='cpu', channels_last='conv')
    assert (accel.device, accel.channels_last, accel.onednn_linear,
            accel.teacher_dtype) == ('cpu', 'conv', True, None)
    with pytest.raises(ValueError, match='accel.device'):
        Acceleration(device='tpu')
    with pytest.raises(ValueError, match='accel=False must be a dict'):
        Acceleration.from_config(False)


def test_channels_last_conv_leaves_other_devices_to_torch():
    conv = ChannelsLastConv2d(2, 3, 1, stride=2)
    x = torch.randn(1, 2, 4, 4, device='meta')
    assert conv.to('meta')(x).shape == (1, 3, 2, 2)
