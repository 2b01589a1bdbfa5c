"""Make the teacher and the student cheaper without changing what they do
(``model.accel``; the core runs the teacher itself, see
:meth:`BaseDistiller.run_teacher`)."""
import inspect
import shutil
import warnings
from typing import Callable, Optional, Union

import numpy as np
import torch
from mmpretrain.models.utils.attention import \
    scaled_dot_product_attention_pyimpl
from torch import nn

from mmcakd.models.distillers.base import TEACHER_DTYPES
from .attention import ATTENTION
from .conv_layout import use_channels_last_conv
from .onednn_linear import use_onednn_linear

# The kernels an attention module of the teacher may hold, which
# ``accel.attention`` replaces: mmpretrain's MultiheadAttention holds torch's
# fused one or mmpretrain's explicit one.
KERNELS = (scaled_dot_product_attention_pyimpl, *ATTENTION.values())
# The defaults of 'auto', per device (docs/cakd_config.md, "Speed").
AUTO = {
    'cpu': dict(channels_last=False, teacher_dtype=None,
                keep_cpu_memory=True, fused_optimizer=True,
                onednn_linear=True),
    'cuda': dict(channels_last=True, teacher_dtype='bf16',
                 keep_cpu_memory=False, fused_optimizer=True,
                 onednn_linear=False),
}


def _device() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def _has_hooks(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks)


def compile_hook_free(module: nn.Module, root: bool = True) -> int:
    """``torch.compile`` the largest sub-modules that carry no hooks.

    The distillers read features through forward hooks (the teacher's
    Q/K/V and tokens, the student's tapped stage), and dynamo does not run
    a hook's side effects inside a compiled region. So every maximal
    hook-free subtree with parameters is compiled in place
    (``nn.Module.compile``): the transformer blocks that are not read, the
    FFN and projections of the one that is, the CNN stages that are not
    tapped. The root itself is never compiled (distillers also call methods
    such as ``extract_feat`` that bypass its ``__call__``), nor are
    containers (a ``ModuleList`` is iterated, never called): they are
    recursed into. Returns how many modules were compiled.
    """
    container = isinstance(module, (nn.ModuleList, nn.ModuleDict))
    if not root and not container and not any(
            _has_hooks(m) for m in module.modules()):
        if next(module.parameters(), None) is None:
            return 0
        module.compile()
        return 1
    return sum(compile_hook_free(child, root=False)
               for child in module.children())


class Acceleration:
    """The speed switches of a distiller (``model.accel`` in a config).

    None of them changes what is computed beyond rounding; the test
    ``tests/test_cpu/test_acceleration.py`` bounds the differences.

    Args:
        compile_teacher (bool): ``torch.compile`` the teacher's hook-free
            sub-modules (:func:`compile_hook_free`). Default False: it
            costs a compilation at the first steps (seconds to minutes).
        compile_student (bool): The same for the student. Default False.
        channels_last (bool | 'conv' | 'auto'): True: store CNN weights and
            feed images in channels-last layout (faster convolutions on
            GPUs and with oneDNN). ``'conv'``: only the student's
            convolutions compute channels-last, each converting its input
            and handing its output back in the layout it got
            (:mod:`mmcakd.cpu.conv_layout`): for narrow CNNs on
            CPU, whose batch norms are slower channels-last but whose
            convolution backward is several times faster so. On CPU, in both
            modes the student's convolutions are ``ChannelsLastConv2d``
            (strided 1x1 ones run on the subsampled input, clear of a
            oneDNN fault on AVX2 CPUs); on CUDA, True is torch's own
            ``.to(memory_format=torch.channels_last)`` and nothing else,
            and 'conv' falls back to it with a warning.
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
        fused_optimizer (bool | 'auto'): Build the distiller's optimizers
            (student side and discriminator) with torch's fused kernel, one
            pass over each parameter instead of one per operation, where the
            optimizer has one (e.g. SGD, Adam, AdamW) and its config sets
            neither ``fused`` nor ``foreach``; others are left as they are.
            The same update up to float rounding. Read by
            :class:`DistillerOptimWrapperConstructor`. 'auto': True.
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
        onednn_linear (bool | 'auto'): Compute the fp32 ``nn.Linear``
            layers of the whole distiller (teacher, student, projectors,
            discriminator) on CPU with oneDNN, as 1x1 convolutions
            (:mod:`mmcakd.cpu.onednn_linear`), instead of MKL's
            sgemm, which is about half as fast on AMD CPUs. The same
            function up to rounding; GPU tensors are left to ``F.linear``.
            Applied at the first training step, with compilation; on CUDA
            it is refused with a warning (a CPU kernel).
            'auto': True on CPU, False on CUDA.

    ``device`` ('auto': CUDA when torch sees a GPU, else CPU) is the
    device the models will run on, which the 'auto' defaults are chosen
    for; set it for a CPU run on a machine with a GPU.

    A switch the machine cannot honour (bf16/fp16 autocast it does not
    support, ``torch.compile`` without a C++ compiler on CPU,
    ``keep_cpu_memory`` without glibc, ``onednn_linear`` in a torch built
    without oneDNN) falls back to the plain way with one
    warning naming the switch; a compilation that fails later falls back to
    eager too (dynamo's ``suppress_errors``).
    """

    def __init__(self,
                 compile_teacher: bool = False,
                 compile_student: bool = False,
                 channels_last: Union[bool, str] = 'auto',
                 inference_mode: bool = True,
                 teacher_dtype: Optional[str] = 'auto',
                 keep_cpu_memory: Union[bool, str] = 'auto',
                 fused_optimizer: Union[bool, str] = 'auto',
                 attention: str = 'auto',
                 onednn_linear: Union[bool, str] = 'auto',
                 device: str = 'auto') -> None:
        if device not in ('auto', 'cpu', 'cuda'):
            raise ValueError(f"accel.device={device!r} must be 'auto', "
                             "'cpu' or 'cuda'")
        device = _device() if device == 'auto' else device
        for name, value in (('channels_last', channels_last),
                            ('teacher_dtype', teacher_dtype),
                            ('keep_cpu_memory', keep_cpu_memory),
                            ('fused_optimizer', fused_optimizer),
                            ('onednn_linear', onednn_linear)):
            if value == 'auto':
                value = AUTO[device][name]
            setattr(self, name, value)
        if not (isinstance(self.channels_last, bool)
                or self.channels_last == 'conv'):
            raise ValueError(f'accel.channels_last={channels_last!r} must be '
                             "True, False, 'conv' or 'auto'")
        for name, value in (('compile_teacher', compile_teacher),
                            ('compile_student', compile_student),
                            ('inference_mode', inference_mode),
                            ('keep_cpu_memory', self.keep_cpu_memory),
                            ('fused_optimizer', self.fused_optimizer),
                            ('onednn_linear', self.onednn_linear)):
            if not isinstance(value, bool):
                raise ValueError(f'accel.{name}={value!r} must be True, '
                                 "False (or 'auto' where allowed)")
        if device == 'cuda' and self.channels_last == 'conv':
            # ChannelsLastConv2d is a CPU workaround (oneDNN's layouts and
            # an AVX2 fault); a GPU gets torch's own channels-last.
            warnings.warn("accel.channels_last='conv' is a CPU layout; on "
                          'CUDA the models are channels-last as a whole')
            self.channels_last = True
        if device == 'cuda' and self.onednn_linear:
            warnings.warn('accel.onednn_linear is a CPU kernel; CUDA keeps '
                          'its linear layers')
            self.onednn_linear = False
        if self.teacher_dtype not in (None, *TEACHER_DTYPES):
            raise ValueError(f'accel.teacher_dtype={teacher_dtype!r} must be '
                             "'bf16', 'fp16', None or 'auto'")
        self.compile_teacher = compile_teacher
        self.compile_student = compile_student
        self.inference_mode = inference_mode
        self.device = device
        self._to_compile: list = []
        self._prepared = False
        if self.teacher_dtype and not self._autocast_supported():
            warnings.warn(f'accel.teacher_dtype={self.teacher_dtype!r}: not '
                          f'supported on this {device}; the teacher runs in '
                          'fp32')
            self.teacher_dtype = None
        if self.onednn_linear and not torch.backends.mkldnn.is_available():
            warnings.warn('accel.onednn_linear: this torch has no oneDNN; '
                          'linear layers run as they are')
            self.onednn_linear = False
        if (compile_teacher or compile_student) and not self._can_compile():
            warnings.warn('accel.compile_teacher/compile_student: '
                          'torch.compile needs a C++ compiler on CPU and '
                          'none was found; running eagerly')
            self.compile_teacher = self.compile_student = False
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

    def _can_compile(self) -> bool:
        return self.device == 'cuda' or any(
            shutil.which(cc) for cc in ('c++', 'g++', 'clang++'))

    def attach(self, teacher: nn.Module, student: nn.Module) -> None:
        """Put the models in channels-last layout now (before the runner
        moves them to their device, which keeps the layout, and wraps them
        in DDP) and give the teacher the attention kernel; the rest waits
        for :meth:`prepare`."""
        self._to_compile = [m for m, on in ((teacher, self.compile_teacher),
                                            (student, self.compile_student))
                            if on]
        self.use_attention_kernel(teacher)
        if self.channels_last and self.device == 'cpu':
            # On CPU the student's convolutions compute channels-last in
            # either mode (ChannelsLastConv2d, which also steers clear of a
            # oneDNN fault of strided 1x1 gradients); a GPU runs torch's
            # own Conv2d on the channels-last models below.
            use_channels_last_conv(student)
        if self.channels_last is True:
            # Both models stored channels-last, the student fed so.
            teacher.to(memory_format=torch.channels_last)
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
        every part of ``model`` (the distiller) is built and every hook is
        in place: the attention kernel of every part, the oneDNN linear
        layers over all of it, then the compilation of the teacher and
        student."""
        if self._prepared:
            return
        self._prepared = True
        self.use_attention_kernel(model)
        if self.onednn_linear:
            use_onednn_linear(model)
        if not self._to_compile:
            return
        # A compilation that fails mid-run falls back to eager instead of
        # stopping the run.
        torch._dynamo.config.suppress_errors = True
        compiled = 0
        for module in self._to_compile:
            # mmcv's DropPath keeps drop_prob as a numpy scalar (from
            # np.linspace): dynamo takes it for an array and breaks the graph
            # at the branch on it. A Python float is the same value.
            for m in module.modules():
                if isinstance(getattr(m, 'drop_prob', None), np.generic):
                    m.drop_prob = float(m.drop_prob)
            compiled += compile_hook_free(module)
        # Every compiled module runs through the same code object
        # (nn.Module._call_impl), so each is one more entry in its cache:
        # under dynamo's default limit (8) all but the first few would
        # silently run eagerly.
        config = torch._dynamo.config
        # Room for a few variants per module (train and eval, with and
        # without grad, a smaller last batch).
        config.recompile_limit = max(config.recompile_limit, 8 * compiled)
        config.accumulated_recompile_limit = max(
            config.accumulated_recompile_limit, 8 * compiled)
        self._to_compile = []

    def teacher_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's batch in its layout (channels-last with True)."""
        if self.channels_last is True and inputs.dim() == 4:
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs


def _to_channels_last(module: nn.Module, args: tuple):
    """Student forward pre-hook: images in channels-last layout."""
    if args and torch.is_tensor(args[0]) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last),
                *args[1:])
    return None
