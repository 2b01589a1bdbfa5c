"""The speed switches (``model.accel``) are accuracy-neutral (issue 7).

Against the eager fp32 teacher, on real Fashion-MNIST test images and the
committed teacher:

- fp32 switches (inference mode, channels-last, the explicit attention
  kernel; kept memory is on too but touches no teacher
  output):
  teacher logits, tokens, Q/K/V and attention equal within 1e-4 (absolute);
- with the teacher in bf16 on top (each attention kernel): relative
  error (Frobenius) <= 2% for every tensor, and top-1 predictions agree
  on >= 99.5% of 1,000 images;
- a short CAKD run, all switches against none (the bf16 teacher where
  the CPU has native bf16): every loss term within 2% (relative) at every
  step.
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
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules

from ..conftest import ROOT

CAKD = osp.join(ROOT, 'configs', 'cakd',
                'cakd-paper_vit-tiny_resnet-tiny_fashion-mnist.py')
FP32 = dict(inference_mode=True, channels_last=True,
            keep_cpu_memory=True, attention='explicit')
BF16 = dict(FP32, teacher_dtype='bf16')
needs_bf16 = pytest.mark.skipif(
    not torch.ops.mkldnn._is_mkldnn_bf16_supported(),
    reason='this CPU has no native bf16')

register_all_modules()


def distiller(accel, **model):
    cfg = Config.fromfile(CAKD)
    plain = dict(inference_mode=False, channels_last=False,
                 teacher_dtype=None, keep_cpu_memory=False,
                 attention='sdpa')
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
    return float(((a - b).norm() / b.norm()).detach())


def test_fp32_switches_change_nothing(reference):
    batch, ref = reference
    model = distiller(FP32)
    out = teacher_outputs(model, batch)
    assert model.teacher.backbone.patch_embed.projection.weight \
        .is_contiguous(memory_format=torch.channels_last)
    assert model.reader.kernel is explicit_attention
    assert model.pca.kernel is explicit_attention
    assert all(m.attn.scaled_dot_product_attention is explicit_attention
               for m in model.teacher.backbone.layers)
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
    for accel in ({}, fast):
        model = distiller(accel, **options).train()
        wrappers = DistillerOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.05)),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-4))))(model)
        runs.append([model.train_step(batch, wrappers) for _ in range(3)])
    for plain, fast in zip(*runs):
        for name in plain:
            assert relative_error(fast[name], plain[name]) <= 0.02, name


def test_unsupported_switch_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported',
                        lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        accel = Acceleration(teacher_dtype='bf16')
    assert accel.teacher_dtype is None
    assert len(caught) == 1 and 'accel.teacher_dtype' in str(
        caught[0].message)


@pytest.mark.parametrize('kwargs,field', [
    (dict(teacher_dtype='int8'), 'accel.teacher_dtype'),
    (dict(channels_last='yes'), 'accel.channels_last'),
    (dict(channels_last=1), 'accel.channels_last'),
    (dict(inference_mode=1), 'accel.inference_mode'),
    (dict(keep_cpu_memory='yes'), 'accel.keep_cpu_memory'),
    (dict(attention='flash'), 'accel.attention'),
    (dict(channels_last='conv'), 'accel.channels_last'),
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


def classes_not_torchs(model: nn.Module) -> set:
    """Classes of ``model`` that come from the tuning package (none may:
    every switch is torch's own expression)."""
    return {type(m).__name__ for m in model.modules()
            if type(m).__module__.startswith('mmcakd.cpu')}


@pytest.mark.parametrize('cuda', [False, True], ids=['cpu', 'cuda'])
def test_each_devices_defaults_are_torchs_own(monkeypatch, cuda):
    """The default switches with the device reported as CPU and as CUDA
    (a CPU tensor stands in for the GPU's): no class of the tuning package
    anywhere, before or after the first step; on CUDA channels-last by
    torch's own memory format and the teacher in bf16 under torch's
    autocast, on CPU the standard layout and an fp32 teacher."""
    from ..test_models.tiny import batch, distiller
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no switch falls back
        model = distiller(mrt=None, accel=dict())
    accel = model.accel
    assert accel.device == ('cuda' if cuda else 'cpu')
    accel.prepare(model)  # what the first training step does
    assert classes_not_torchs(model) == set()
    conv = model.student.backbone.layer1[0].conv1  # 8 -> 8 channels
    assert type(conv) is nn.Conv2d
    weight = conv.weight
    assert (accel.channels_last, accel.teacher_dtype) == (
        (True, 'bf16') if cuda else (False, None))
    assert weight.is_contiguous(memory_format=torch.channels_last) is cuda
    if not cuda:
        model.train_step(batch(), DistillerOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1))))(model))
        assert classes_not_torchs(model) == set()


@pytest.mark.parametrize('cuda', [False, True], ids=['cpu', 'cuda'])
def test_channels_last_keeps_a_faulty_student_standard_on_cpu(monkeypatch,
                                                              cuda):
    """A student with a strided 1x1 convolution over 2-7 input channels
    (oneDNN's channels-last weight gradient is wrong on AVX2 CPUs) keeps
    the standard layout on CPU, with one warning naming the layer; the
    teacher is channels-last; on CUDA the student is channels-last too."""
    from ..test_models.tiny import distiller, resnet
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = distiller(student=resnet(width=4), mrt=None,
                          accel=dict(channels_last=True))
    messages = [str(w.message) for w in caught
                if 'accel.channels_last' in str(w.message)]
    weight = model.student.backbone.layer1[0].conv1.weight  # 4 -> 4
    assert model.teacher.backbone.patch_embed.projection.weight \
        .is_contiguous(memory_format=torch.channels_last)
    if cuda:
        assert not messages
        assert weight.is_contiguous(memory_format=torch.channels_last)
    else:
        assert len(messages) == 1
        assert 'backbone.layer2.0.downsample.0' in messages[0]
        assert weight.is_contiguous()
    # A wider student (8 input channels and up) is channels-last on CPU.
    model = distiller(mrt=None, accel=dict(channels_last=True))
    assert model.student.backbone.layer1[0].conv1.weight.is_contiguous(
        memory_format=torch.channels_last)


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
    accel = Acceleration(device='cpu')
    assert (accel.device, accel.channels_last,
            accel.teacher_dtype) == ('cpu', False, None)
    with pytest.raises(ValueError, match='accel.device'):
        Acceleration(device='tpu')
    with pytest.raises(ValueError, match='accel=False must be a dict'):
        Acceleration.from_config(False)
