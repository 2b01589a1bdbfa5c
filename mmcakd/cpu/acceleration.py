"""Make the teacher and the student cheaper without changing what they do
(``model.accel``; the core runs the teacher itself, see
:meth:`BaseDistiller.run_teacher`)."""
import inspect
import warnings
from typing import Callable, Optional, Union

import torch
from mmpretrain.models.utils.attention import \
    scaled_dot_product_attention_pyimpl
from torch import nn

from mmcakd.models.distillers.base import TEACHER_DTYPES
from .attention import ATTENTION

# The kernels an attention module of the teacher may hold, which
# ``accel.attention`` replaces: mmpretrain's MultiheadAttention holds torch's
# fused one or mmpretrain's explicit one.
KERNELS = (scaled_dot_product_attention_pyimpl, *ATTENTION.values())
# The defaults of 'auto', per device (docs/cakd_config.md, "Speed").
AUTO = {
    'cpu': dict(channels_last=False, teacher_dtype=None,
                keep_cpu_memory=True),
    'cuda': dict(channels_last=True, teacher_dtype='bf16',
                 keep_cpu_memory=False),
}


def _device() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


class Acceleration:
    """The speed switches of a distiller (``model.accel`` in a config).

    None of them changes what is computed beyond rounding; the test
    ``tests/test_cpu/test_acceleration.py`` bounds the differences.

    Args:
        channels_last (bool | 'auto'): True: store CNN weights and feed
            images in channels-last layout, torch's own
            ``.to(memory_format=torch.channels_last)`` (faster convolutions
            on GPUs, and on CPU for wide CNNs such as ResNet-50; slower for
            narrow ones, whose batch norms lose more than their
            convolutions gain). On CPU a student with a strided 1x1
            convolution over 2-7 input channels keeps the standard layout,
            with one warning: oneDNN's channels-last weight gradient of
            such a convolution is wrong (or hangs) on AVX2 CPUs.
            'auto': True on CUDA, False on CPU.
        inference_mode (bool): Run the teacher under
            ``torch.inference_mode()`` instead of ``torch.no_grad()``.
            Default True on every device.
        teacher_dtype (str | None | 'auto'): Run the teacher under autocast
            in ``'bf16'`` or ``'fp16'``; its outputs (the targets) are cast
            back to fp32. The student's precision follows ``--amp``.
            'auto': bf16 on CUDA, fp32 (None) on CPU.
        keep_cpu_memory (bool | 'auto'): Keep freed host memory in the
            process for reuse instead of returning it to the system every
            step (:func:`mmcakd.cpu.memory.keep_freed_memory`, glibc
            only). Process-wide and irreversible, so the entry points apply
            it before they build anything (``tools/train.py``,
            ``tools/test.py``, :func:`keep_freed_memory_if_asked`), never
            the model; inherited by forked workers; nothing computed
            changes.
            'auto': True on CPU, False on CUDA (whose tensors already live
            in a caching allocator).
        attention (str): The kernel of the attention the distiller
            computes: the teacher's multi-head attention (mmpretrain's
            ``MultiheadAttention``: ViT, DeiT), CAKD's Attn_T and the PCA
            projector's attention (:mod:`mmcakd.cpu.attention`).
            ``'sdpa'`` (torch's fused ``scaled_dot_product_attention``),
            ``'explicit'`` (``softmax(QK^T / sqrt(d)) V`` as two matmuls,
            the softmax in fp32) or ``'auto'`` (on CPU explicit for bf16 or
            fp16 inputs, such as a teacher under ``teacher_dtype``, and for
            fewer than 64 keys, where torch's fused kernel is the slower
            one; sdpa otherwise). The same function up to rounding.
            Swin's window attention is explicit already; for a Swin
            teacher only Attn_T and the projector change kernel.

    ``device`` ('auto': CUDA when torch sees a GPU, else CPU) is the
    device the models will run on, which the 'auto' defaults are chosen
    for; set it for a CPU run on a machine with a GPU.

    A switch the machine cannot honour (bf16/fp16 autocast it does not
    support, ``keep_cpu_memory`` without glibc) falls back to the plain way
    with one warning naming the switch.
    """

    def __init__(self,
                 channels_last: Union[bool, str] = 'auto',
                 inference_mode: bool = True,
                 teacher_dtype: Optional[str] = 'auto',
                 keep_cpu_memory: Union[bool, str] = 'auto',
                 attention: str = 'auto',
                 device: str = 'auto') -> None:
        if device not in ('auto', 'cpu', 'cuda'):
            raise ValueError(f"accel.device={device!r} must be 'auto', "
                             "'cpu' or 'cuda'")
        device = _device() if device == 'auto' else device
        for name, value in (('channels_last', channels_last),
                            ('teacher_dtype', teacher_dtype),
                            ('keep_cpu_memory', keep_cpu_memory)):
            if value == 'auto':
                value = AUTO[device][name]
            setattr(self, name, value)
        for name, value in (('channels_last', self.channels_last),
                            ('inference_mode', inference_mode),
                            ('keep_cpu_memory', self.keep_cpu_memory)):
            if not isinstance(value, bool):
                raise ValueError(f'accel.{name}={value!r} must be True, '
                                 "False (or 'auto' where allowed)")
        if self.teacher_dtype not in (None, *TEACHER_DTYPES):
            raise ValueError(f'accel.teacher_dtype={teacher_dtype!r} must be '
                             "'bf16', 'fp16', None or 'auto'")
        self.inference_mode = inference_mode
        self.device = device
        self._prepared = False
        if self.teacher_dtype and not self._autocast_supported():
            warnings.warn(f'accel.teacher_dtype={self.teacher_dtype!r}: not '
                          f'supported on this {device}; the teacher runs in '
                          'fp32')
            self.teacher_dtype = None
        if attention not in ATTENTION:
            raise ValueError(f'accel.attention={attention!r} must be one of '
                             f'{sorted(ATTENTION)}')
        self.attention = attention

    @classmethod
    def from_config(cls, cfg: Optional[dict]) -> 'Acceleration':
        """Build from a config's ``model.accel`` dict (None: defaults),
        naming any key that is not a switch."""
        if cfg is not None and not isinstance(cfg, dict):
            raise ValueError(f'accel={cfg!r} must be a dict of switches '
                             '(dict() for the defaults) or None (plain '
                             'torch)')
        known = set(inspect.signature(cls).parameters)
        unknown = sorted(set(cfg or {}) - known)
        if unknown:
            raise ValueError(f'accel: unknown switch(es) {unknown}; the '
                             f'switches are {sorted(known)} '
                             '(docs/cakd_config.md, "accel")')
        return cls(**(cfg or {}))

    @property
    def attention_kernel(self) -> Callable:
        """``attention``'s kernel: (q, k, v) -> attention output."""
        return ATTENTION[self.attention]

    def _autocast_supported(self) -> bool:
        if self.device == 'cuda':
            return (self.teacher_dtype == 'fp16'
                    or torch.cuda.is_bf16_supported())
        # CPU autocast: bf16 with native support only (emulated bf16 is
        # slower than fp32); fp16 autocast on CPU is not worth it.
        return (self.teacher_dtype == 'bf16'
                and torch.ops.mkldnn._is_mkldnn_bf16_supported())

    def attach(self, teacher: nn.Module, student: nn.Module) -> None:
        """Put the models in channels-last layout now (before the runner
        moves them to their device, which keeps the layout, and wraps them
        in DDP) and give the teacher the attention kernel; the rest waits
        for :meth:`prepare`."""
        self.use_attention_kernel(teacher)
        if not self.channels_last:
            return
        teacher.to(memory_format=torch.channels_last)
        faulty = (onednn_faulty_conv(student)
                  if self.device == 'cpu' else None)
        if faulty:
            warnings.warn(
                f'accel.channels_last: the student keeps the standard '
                f'layout: its {faulty} is a strided 1x1 convolution over '
                '2-7 input channels, whose channels-last weight gradient '
                "oneDNN gets wrong on AVX2 CPUs (the teacher, which takes "
                'no gradient, is channels-last)')
            return
        # The student stored channels-last and fed so.
        student.to(memory_format=torch.channels_last)
        student.register_forward_pre_hook(_to_channels_last)

    def use_attention_kernel(self, model: nn.Module) -> None:
        """Give every attention module of ``model`` the ``attention``
        kernel: mmpretrain's MultiheadAttention keeps its kernel in
        ``scaled_dot_product_attention`` (a partial of the explicit one
        when qk_scale is set, which is left alone), the PCA projector in
        ``kernel``."""
        for module in model.modules():
            for name in ('scaled_dot_product_attention', 'kernel'):
                if getattr(module, name, None) in KERNELS:
                    setattr(module, name, self.attention_kernel)

    def prepare(self, model: nn.Module) -> None:
        """Once, at the first teacher run (the distiller calls it), when
        every part of ``model`` (the distiller) is built: the attention
        kernel of every part (the projectors included)."""
        if self._prepared:
            return
        self._prepared = True
        self.use_attention_kernel(model)

    def teacher_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's batch in its layout (channels-last with True)."""
        if self.channels_last and inputs.dim() == 4:
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs


def onednn_faulty_conv(model: nn.Module) -> Optional[str]:
    """The name of the first convolution of ``model`` that oneDNN's
    channels-last weight gradient gets wrong on AVX2 CPUs (seen with torch
    2.14.1: a strided 1x1 convolution over 2-7 input channels per group
    writes out of bounds), or None."""
    for name, m in model.named_modules():
        if (isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
                and m.stride != (1, 1)
                and 2 <= m.in_channels // m.groups <= 7):
            return name
    return None


def _to_channels_last(module: nn.Module, args: tuple):
    """Student forward pre-hook: images in channels-last layout."""
    if args and torch.is_tensor(args[0]) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last),
                *args[1:])
    return None
