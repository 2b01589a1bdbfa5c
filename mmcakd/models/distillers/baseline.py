"""What the baseline distillers (KD, DKD, FitNet, RKD, OFA) share."""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Tuple

import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmcakd.utils.checks import check_number
from mmcakd.registry import MODELS
from .base import BaseDistiller, ModelCfg


def build_loss(cfg: Optional[dict], field: str = 'distill_loss') -> nn.Module:
    """A registered loss from ``cfg``; an unknown type is a ValueError."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f'{field} must be a dict with a `type`, got {cfg!r}')
    try:
        return MODELS.build(dict(cfg))
    except KeyError:
        raise ValueError(f'{field}.type={cfg["type"]!r} is not a registered '
                         'loss (e.g. KDLoss, DKDLoss, OFALoss, FitNetLoss, '
                         'RKDLoss)') from None
    except ValueError as e:  # a bad option: name it by its config path
        raise ValueError(f'{field}.{e}') from None


class BaselineDistiller(BaseDistiller):
    """A frozen teacher, a student and one distillation loss:

        L = ce_weight * CE(student logits, labels) + w(t) * L_distill

    Every baseline trains the student (and its own small projections) with
    one optimizer: ``optim_wrapper`` may be a plain one
    (``dict(optimizer=...)``) or, as in the configs, the student-only
    ``OptimWrapperDict`` of ``DistillerOptimWrapperConstructor``, which
    keeps the teacher out of the optimizer. The student and the teacher see
    the same (clean) batch, or with ``views`` the student a view and the
    teacher the input ``views.teacher_view`` gives it. Subclasses implement
    :meth:`loss`.

    Args:
        teacher, student, teacher_ckpt, student_stage, eval_teacher,
            data_preprocessor: see :class:`BaseDistiller`.
        distill_loss (dict): The loss config (``type`` and its options).
        ce_weight (float): Weight of the student's own classification loss
            (its head's loss, e.g. CE), logged as ``loss_cls``.
        ramp (dict, optional): Warm-up w(t) of the distillation term, as in
            CAKD: ``dict(begin=0, end=20, by_epoch=True)`` is 0 at ``begin``,
            rises linearly and is 1 from ``end`` on. ``None``: w = 1.
        input_size (tuple, optional): (C, H, W) of the training images for
            the dry run that reads shapes at build time; defaults to the
            teacher's patch-embedding input size (ViT, DeiT, Swin).
        views (dict, optional): The views as plain augmentation, see
            :class:`BaseDistiller`.
    """

    def __init__(self,
                 teacher: ModelCfg,
                 student: ModelCfg,
                 distill_loss: dict,
                 teacher_ckpt: Optional[str] = None,
                 student_stage: Optional[str] = None,
                 ce_weight: float = 1.0,
                 ramp: Optional[dict] = None,
                 input_size: Optional[Tuple[int, int, int]] = None,
                 eval_teacher: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 accel: Optional[dict] = None,
                 views: Optional[dict] = None) -> None:
        super().__init__(teacher, student, teacher_ckpt, student_stage,
                         eval_teacher, data_preprocessor, init_cfg, accel,
                         views)
        self.ce_weight = check_number(ce_weight, 'ce_weight')
        self.ramp = self.check_ramp(ramp)
        self.distill_loss = build_loss(distill_loss)
        self.loss_key = getattr(self.distill_loss, 'loss_name', 'loss_distill')
        self.input_size = self.resolve_input_size(input_size)

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, K) teacher logits; DeiT's two heads are averaged."""
        return self.teacher_reader.logits(inputs)

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        """mmengine's train step with the student's optimizer (the only one
        a baseline has) taken out of an ``OptimWrapperDict``."""
        if isinstance(optim_wrapper, OptimWrapperDict):
            optim_wrapper = optim_wrapper['student']
        if not isinstance(optim_wrapper, OptimWrapper):
            raise TypeError('optim_wrapper: expected an OptimWrapper or an '
                            'OptimWrapperDict with `student`')
        return super().train_step(data, optim_wrapper)


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode without grad (a dry run); mode restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
