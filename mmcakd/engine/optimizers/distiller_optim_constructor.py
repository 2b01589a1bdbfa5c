"""Optimizers of a distiller: one for the student side, one for D."""
from typing import Optional

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from mmcakd.registry import OPTIM_WRAPPER_CONSTRUCTORS

# Children of a distiller that never join the student's optimizer.
NOT_STUDENT = ('teacher', 'discriminator')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillerOptimWrapperConstructor:
    """Builds ``OptimWrapperDict(student=..., discriminator=...)``.

    ``student`` optimises every trainable child of the distiller except the
    teacher (never optimised) and the discriminator: the student and the
    projectors. ``discriminator`` optimises D, when the model has one. Each
    sub-config is an ordinary mmengine optim-wrapper config (``type``,
    ``optimizer``, ``paramwise_cfg``, ``clip_grad`` ...); parameter names in
    ``paramwise_cfg`` are relative to the distiller (``student.backbone...``).
    torch's own choice of implementation holds (``foreach`` where it
    can); a config may ask for another (e.g. ``optimizer=dict(type='SGD',
    ..., fused=True)``).

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
    def _build(cfg: dict, module: nn.Module):
        cfg = dict(cfg)
        cfg.setdefault('type', 'OptimWrapper')
        paramwise = cfg.pop('paramwise_cfg', None)
        return DefaultOptimWrapperConstructor(cfg, paramwise)(module)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        student_side = nn.ModuleDict({
            name: child
            for name, child in model.named_children()
            if name not in NOT_STUDENT and any(
                p.requires_grad for p in child.parameters())
        })
        wrappers = dict(student=self._build(self.cfg['student'],
                                            student_side))
        if getattr(model, 'discriminator', None) is not None:
            if 'discriminator' not in self.cfg:
                raise ValueError('the model has a discriminator (mrt is set) '
                                 'but optim_wrapper has no `discriminator` '
                                 'sub-config')
            wrappers['discriminator'] = self._build(
                self.cfg['discriminator'], model.discriminator)
        return OptimWrapperDict(**wrappers)
