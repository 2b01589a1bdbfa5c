"""Optimizers of a distiller: one for the student side, one for D."""
import inspect
from typing import Optional

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from mmcakd.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS

# Children of a distiller that never join the student's optimizer.
NOT_STUDENT = ('teacher', 'discriminator')


def _fused(optimizer: dict) -> dict:
    """``optimizer`` with ``fused=True`` if its class has a fused kernel and
    the config chose no implementation itself (``fused``, ``foreach``;
    ``differentiable`` excludes a fused kernel)."""
    cls = optimizer.get('type')
    if isinstance(cls, str):
        cls = OPTIMIZERS.get(cls)
    chosen = {'fused', 'foreach', 'differentiable'} & set(optimizer)
    if (chosen or not inspect.isclass(cls)
            or 'fused' not in inspect.signature(cls.__init__).parameters):
        return optimizer
    return dict(optimizer, fused=True)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillerOptimWrapperConstructor:
    """Builds ``OptimWrapperDict(student=..., discriminator=...)``.

    ``student`` optimises every trainable child of the distiller except the
    teacher (never optimised) and the discriminator: the student and the
    projectors. ``discriminator`` optimises D, when the model has one. Each
    sub-config is an ordinary mmengine optim-wrapper config (``type``,
    ``optimizer``, ``paramwise_cfg``, ``clip_grad`` ...); parameter names in
    ``paramwise_cfg`` are relative to the distiller (``student.backbone...``).
    With the model's ``accel.fused_optimizer`` on, an optimizer that has a
    fused kernel and whose config sets neither ``fused`` nor ``foreach`` is
    built with ``fused=True``. A resumed run keeps the implementation its
    checkpoint's optimizer was saved with (torch restores each param
    group's ``fused`` entry).

    Example::

        optim_wrapper = dict(
            constructor='DistillerOptimWrapperConstructor',
            student=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-4)))
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if 'student' not in optim_wrapper_cfg:
            raise ValueError('optim_wrapper needs a `student` sub-config '
                             '(DistillerOptimWrapperConstructor)')
        unknown = set(optim_wrapper_cfg) - {'student', 'discriminator'}
        if unknown:
            raise ValueError(f'optim_wrapper: unknown keys {sorted(unknown)};'
                             ' expected `student` and `discriminator`')
        self.cfg = optim_wrapper_cfg

    @staticmethod
    def _build(cfg: dict, module: nn.Module, fused: bool = False):
        cfg = dict(cfg)
        cfg.setdefault('type', 'OptimWrapper')
        if fused:
            cfg['optimizer'] = _fused(cfg['optimizer'])
        paramwise = cfg.pop('paramwise_cfg', None)
        return DefaultOptimWrapperConstructor(cfg, paramwise)(module)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        accel = getattr(model, 'accel', None)
        fused = bool(getattr(accel, 'fused_optimizer', False))
        student_side = nn.ModuleDict({
            name: child
            for name, child in model.named_children()
            if name not in NOT_STUDENT and any(
                p.requires_grad for p in child.parameters())
        })
        wrappers = dict(student=self._build(self.cfg['student'],
                                            student_side, fused))
        if getattr(model, 'discriminator', None) is not None:
            if 'discriminator' not in self.cfg:
                raise ValueError('the model has a discriminator (mrt is set) '
                                 'but optim_wrapper has no `discriminator` '
                                 'sub-config')
            wrappers['discriminator'] = self._build(
                self.cfg['discriminator'], model.discriminator, fused)
        return OptimWrapperDict(**wrappers)
