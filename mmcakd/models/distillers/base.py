"""What every distiller shares: a frozen teacher and a trainable student."""
import dataclasses
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner.checkpoint import get_state_dict
from torch import nn

from mmcakd.models.losses import (UNLABELLED, LabelledOnlyLoss,
                                  accepts_sample_weight)
from mmcakd.models.teachers import build_teacher_reader
from mmcakd.models.utils import FeatureTap, load_weights
from mmcakd.registry import MODELS
from mmcakd.utils.checks import check_class_options, check_number
from mmcakd.utils.launch import read_config

ModelCfg = Union[dict, str]
# The teacher's precisions under autocast (``accel.teacher_dtype``).
TEACHER_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def map_tensors(obj: Any, fn: Callable[[torch.Tensor], torch.Tensor]):
    """``fn`` applied to every tensor in a tensor, tuple, list, dict or
    dataclass (e.g. :class:`TeacherFeatures`)."""
    if torch.is_tensor(obj):
        return fn(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(map_tensors(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: map_tensors(v, fn) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj):
        return dataclasses.replace(obj, **{
            f.name: map_tensors(getattr(obj, f.name), fn)
            for f in dataclasses.fields(obj)
        })
    return obj


def build_classifier(cfg: ModelCfg, field: str) -> nn.Module:
    """An mmpretrain classifier from a model dict or an mmpretrain config.

    ``cfg`` is either a model dict (``dict(type='ImageClassifier', ...)``) or
    the path of a config whose ``model`` is used (``mmpretrain::`` paths are
    accepted, e.g. ``'mmpretrain::resnet/resnet50_8xb32_in1k.py'``).
    """
    if isinstance(cfg, str):
        cfg = read_config(cfg).model
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f'{field} must be a model dict with a `type` or the '
                         f'path of an mmpretrain config, got {cfg!r}')
    cfg = dict(cfg)
    # The distiller's own data preprocessor (and its batch augments, if any)
    # prepares the batch for both; the classifiers' own would never run.
    cfg.pop('data_preprocessor', None)
    cfg.pop('train_cfg', None)
    return MODELS.build(cfg)


def build_loss(cfg: Optional[dict], field: str = 'distill_loss') -> nn.Module:
    """A registered loss from ``cfg``; an unknown type or a bad option is
    a ValueError naming ``field``."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f'{field} must be a dict with a `type`, got {cfg!r}')
    cls = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) else \
        cfg['type']
    if cls is None:
        raise ValueError(f'{field}.type={cfg["type"]!r} is not a registered '
                         'loss (mmcakd.models.losses)')
    check_class_options(cls, cfg, field)
    try:
        return MODELS.build(dict(cfg))
    except ValueError as e:  # a bad option: name it by its config path
        raise ValueError(f'{field}.{e}') from None


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


class BaseDistiller(BaseModel):
    """A frozen teacher, a student and the plumbing around them:

        L = ce_weight * CE(student logits, labels) + w(t) * L_distill

    the distillation terms being the subclass's (:meth:`loss`): one
    ``distill_loss`` for the baselines (KD, DKD, FitNet, RKD, OFA-KD),
    CAKD's projectors and MRT. Subclasses take their own arguments and pass
    the rest through.

    The teacher is built from an ordinary mmpretrain classifier config,
    loaded from ``teacher_ckpt`` with torch's safe loader, and frozen for
    real: ``requires_grad=False``, in eval mode even after ``model.train()``
    (so drop-path and dropout stay off), run without autograd by
    :meth:`run_teacher`, and therefore skipped by DDP wrappers and
    optimizers.

    Unlabelled samples (``gt_label`` = ``UNLABELLED``, -1, e.g. from
    :class:`~mmcakd.datasets.PartiallyLabelledDataset`) get no CE: the
    student's head loss is wrapped in :class:`LabelledOnlyLoss`, while every
    distillation term uses them. The number of labelled samples in the
    batch is logged as ``num_labelled``.

    With ``views``, the student trains on the multi-view generator's views
    (:class:`MultiViewGenerator`, the same module and options as CAKD's MRT)
    and the teacher sees the clean batch, the same geometric view or the
    same view (``views.teacher_view``): the equal-view control of every
    method.

    Validation and test evaluate the student; with ``eval_teacher=True`` the
    teacher's scores are added to each sample as ``teacher_pred_score`` (read
    by the ``TeacherAccuracy`` metric).

    Args:
        teacher (dict | str): Teacher classifier config (or config path).
        student (dict | str): Student classifier config (or config path).
        teacher_ckpt (str, optional): Local path or URL of the teacher's
            weights. ``None`` keeps the initialisation (tests only).
        student_stage (str, optional): Name of the student module whose
            output is tapped, e.g. ``'backbone.layer3'``.
        distill_loss (dict, optional): The one distillation loss of a
            baseline (``type`` and its options), logged under its
            ``loss_name``; CAKD has its projectors' losses instead.
        ce_weight (float): Weight of the student's own classification loss
            (its head's loss, e.g. CE), logged as ``loss_cls``.
        ramp (dict, optional): The distillation weight w(t), see
            :meth:`distill_weight`. ``None``: w = 1.
        input_size (tuple, optional): (C, H, W) of the training images for
            the dry runs that read shapes at build time; defaults to the
            teacher's patch-embedding input size (ViT, DeiT, Swin).
        eval_teacher (bool): Also predict with the teacher in test/val.
        data_preprocessor (dict, optional): Shared by teacher and student.
        init_cfg (dict, optional): mmengine's; the teacher is never
            initialised (:meth:`init_weights`).
        accel (dict, optional): Device tuning (the teacher's precision and
            grad mode, channels-last, attention kernels), from the
            optional package :mod:`mmcakd.cpu` (:class:`Acceleration`),
            imported only when this is set; ``dict()`` takes each
            device's defaults. ``None`` (default): plain torch, the
            teacher in fp32 under ``torch.inference_mode()``.
        views (dict, optional): :class:`MultiViewGenerator` kwargs (e.g.
            ``dict(prob=0.5)``); ``None`` (default): no views.
    """

    # Whether the method is one ``distill_loss`` (the baselines: required).
    takes_distill_loss = True

    def __init__(self,
                 teacher: ModelCfg,
                 student: ModelCfg,
                 teacher_ckpt: Optional[str] = None,
                 student_stage: Optional[str] = None,
                 distill_loss: Optional[dict] = None,
                 ce_weight: float = 1.0,
                 ramp: Optional[dict] = None,
                 input_size: Optional[Tuple[int, int, int]] = None,
                 eval_teacher: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 accel: Optional[dict] = None,
                 views: Optional[dict] = None) -> None:
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = build_classifier(student, 'student')
        self._skip_unlabelled_in_ce()
        self.teacher = build_classifier(teacher, 'teacher')
        if teacher_ckpt is not None:
            load_weights(self.teacher, teacher_ckpt, 'teacher_ckpt')
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        # The teacher's family: its logits, pooled feature and input size
        # (registered readers, mmcakd.models.teachers).
        self.teacher_reader = build_teacher_reader(self.teacher)
        self.eval_teacher = eval_teacher
        self.student_tap = (
            FeatureTap(self.student, student_stage, 'student_stage')
            if student_stage else None)
        # The teacher's run (run_teacher): plain torch unless model.accel
        # asks for the device tuning, which lives outside the core.
        self.accel = None
        self.teacher_dtype, self.inference_mode = None, True
        if accel is not None:
            from mmcakd.cpu import Acceleration
            self.accel = Acceleration.from_config(accel)
            self.accel.attach(self.teacher, self.student)
            self.teacher_dtype = self.accel.teacher_dtype
            self.inference_mode = self.accel.inference_mode
        self.views = self.build_views(views)
        self.ce_weight = check_number(ce_weight, 'ce_weight')
        self.ramp = self.check_ramp(ramp)
        self.distill_loss = (build_loss(distill_loss)
                             if self.takes_distill_loss else None)
        self.loss_key = getattr(self.distill_loss, 'loss_name',
                                'loss_distill')
        # Resolved where a dry run needs it (input_size), after a
        # subclass has checked that it reads this teacher at all.
        self._input_size = input_size

    @property
    def input_size(self) -> Tuple[int, int, int]:
        """(C, H, W) of the dry runs (:meth:`resolve_input_size`)."""
        try:
            return self.resolve_input_size(self._input_size)
        except AttributeError as err:
            # nn.Module would report it as a missing `input_size`.
            raise ValueError(f'input_size: {err}') from None

    @staticmethod
    def build_views(views: Optional[dict],
                    field: str = 'views') -> Optional[nn.Module]:
        """The :class:`MultiViewGenerator` of ``views`` (its kwargs), or
        None. Building it draws its seed from torch's global generator, so
        where a subclass builds it decides the initial weights of what is
        built after it."""
        if views is None:
            return None
        return MODELS.build(
            dict(type='MultiViewGenerator', field=field, **views))

    def _skip_unlabelled_in_ce(self) -> None:
        """Wrap the student head's loss in :class:`LabelledOnlyLoss`.

        A head without a ``loss_module``, or a loss without a per-sample
        ``weight``, is left as it is: it trains on labelled data only.
        """
        head = getattr(self.student, 'head', None)
        loss = getattr(head, 'loss_module', None)
        if isinstance(loss, nn.Module) and accepts_sample_weight(loss):
            head.loss_module = LabelledOnlyLoss(loss)

    def view_inputs(self, inputs: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(student's batch, teacher's batch), both (B, C, H, W): the views
        and the teacher's input under ``views.teacher_view`` while
        training with views, else ``inputs`` twice."""
        if self.views is None or not self.training:
            return inputs, inputs
        views, choice = self.views(inputs)
        return views, self.views.teacher_inputs(inputs, views, choice)

    def student_losses(self, inputs: torch.Tensor,
                       data_samples: list) -> Dict[str, torch.Tensor]:
        """The student's forward (through its wrapper under DDP, so that
        hooks and gradient sync both see it) and its head loss on the
        labelled samples, weighted by ``ce_weight`` and renamed
        ``loss_cls``; ``num_labelled`` counts the batch's labelled
        samples (logged, not summed into the loss)."""
        losses = self.student(inputs, data_samples, mode='loss')
        # mmpretrain heads call their classification loss `loss`.
        losses = {('loss_cls' if k == 'loss' else k):
                  (self.ce_weight * v if k == 'loss' else v)
                  for k, v in losses.items()}
        if data_samples and 'gt_label' in data_samples[0]:
            labels = torch.cat([s.gt_label for s in data_samples])
            losses['num_labelled'] = (labels != UNLABELLED).sum().float()
        return losses

    @staticmethod
    def targets(data_samples: list,
                logits_t: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, ) class ids: with soft labels (mixup, cutmix) the dominant
        class, as the OFA and DKD releases do; an unlabelled sample takes
        the teacher's prediction argmax ``logits_t`` (B, K), so that
        label-aware losses (DKD, OFA) still use it."""
        if 'gt_score' in data_samples[0]:
            return torch.stack([s.gt_score for s in data_samples]).argmax(1)
        labels = torch.cat([s.gt_label for s in data_samples])
        if logits_t is None:
            return labels
        labels = labels.to(logits_t.device)
        return torch.where(labels == UNLABELLED, logits_t.argmax(1), labels)

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, K) teacher logits; a two-head teacher's (DeiT) averaged."""
        return self.teacher_reader.logits(inputs)

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        """mmengine's train step with the student's optimizer (the only one
        a baseline has) taken out of an ``OptimWrapperDict``; CAKD, which
        also updates its discriminator, has its own."""
        if isinstance(optim_wrapper, OptimWrapperDict):
            optim_wrapper = optim_wrapper['student']
        if not isinstance(optim_wrapper, OptimWrapper):
            raise TypeError('optim_wrapper: expected an OptimWrapper or an '
                            'OptimWrapperDict with `student`')
        return super().train_step(data, optim_wrapper)

    @property
    def attention_kernel(self) -> Callable:
        """(q, k, v) -> softmax(q k^T / sqrt(d)) v for what the distiller
        computes itself: torch's, or ``accel.attention``'s."""
        return (F.scaled_dot_product_attention if self.accel is None else
                self.accel.attention_kernel)

    def run_teacher(self, fn: Callable, inputs: torch.Tensor) -> Any:
        """``fn(inputs)``, a teacher forward or a reader of its features,
        without autograd, in the teacher's precision (fp32 unless
        ``accel.teacher_dtype``, also inside the student's ``--amp``
        autocast); its tensors come back as fp32 targets autograd may use
        (inference-mode tensors are cloned out)."""
        if self.accel is not None:
            self.accel.prepare(self)
            inputs = self.accel.teacher_inputs(inputs)
        grad_off = (torch.inference_mode()
                    if self.inference_mode else torch.no_grad())
        cast = (torch.autocast(inputs.device.type,
                               dtype=TEACHER_DTYPES[self.teacher_dtype])
                if self.teacher_dtype else torch.autocast(
                    inputs.device.type, enabled=False))
        with grad_off, cast:
            out = fn(inputs)
        return map_tensors(out, self._target)

    def _target(self, tensor: torch.Tensor) -> torch.Tensor:
        """An fp32 tensor autograd may use (not an inference tensor)."""
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            return tensor.float()
        return tensor.clone() if self.inference_mode else tensor

    @staticmethod
    def check_ramp(ramp: Optional[dict]) -> Optional[dict]:
        """``ramp`` validated: ``dict(begin, end, max_weight=1.0,
        by_epoch=True)``; ``begin`` and ``end`` may both be left out for a
        constant weight ``max_weight``."""
        if ramp is None:
            return None
        unknown = sorted(set(ramp) - {'begin', 'end', 'max_weight',
                                      'by_epoch'})
        if unknown:
            raise ValueError(f'ramp: unknown option(s) {unknown}; expected '
                             'begin, end, max_weight, by_epoch')
        begin, end = ramp.get('begin'), ramp.get('end')
        if (begin, end) != (None, None) and not (
                isinstance(begin, int) and isinstance(end, int)
                and 0 <= begin < end):
            raise ValueError(f'ramp={ramp!r}: need integers 0 <= begin < end')
        cap = check_number(ramp.get('max_weight', 1.0), 'ramp.max_weight')
        by_epoch = ramp.get('by_epoch', True)
        if not isinstance(by_epoch, bool):
            raise ValueError(f'ramp.by_epoch={by_epoch!r} must be True '
                             '(count epochs) or False (iterations)')
        return dict(begin=begin, end=end, max_weight=cap, by_epoch=by_epoch)

    def distill_weight(self) -> float:
        """w(t) = min(clip((t - begin) / (end - begin), 0, 1), max_weight)
        with t the epoch or iteration (0-based); 1 without a ramp.

        The release's w(epoch) = min(max(epoch - 25, 0) / 50, 0.2) is
        ``dict(begin=25, end=75, max_weight=0.2)``.
        """
        if self.ramp is None:
            return 1.0
        cap = self.ramp['max_weight']
        begin, end = self.ramp['begin'], self.ramp['end']
        if begin is None:
            return cap
        hub = MessageHub.get_current_instance()
        t = hub.get_info('epoch' if self.ramp['by_epoch'] else 'iter', 0)
        return min(max((t - begin) / (end - begin), 0.0), 1.0, cap)

    # MMSeparateDistributedDataParallel wraps each trainable child in its own
    # DDP, which adds `.module.` to its keys. Checkpoints are written without
    # it (one format for 1 or N processes); mmengine's loader unwraps model
    # wrappers itself when it reads them back.
    def state_dict(self, destination=None, prefix='', keep_vars=False):
        return get_state_dict(self, destination, prefix, keep_vars)

    def init_weights(self) -> None:
        """Initialise the student (and the parts a subclass adds), never the
        teacher, whose weights came from ``teacher_ckpt``."""
        for name, child in self.named_children():
            # Under MMSeparateDistributedDataParallel (the runner initialises
            # after wrapping) each child sits in its own DDP wrapper.
            if is_model_wrapper(child):
                child = child.module
            if name != 'teacher' and hasattr(child, 'init_weights'):
                child.init_weights()

    def train(self, mode: bool = True) -> 'BaseDistiller':
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        """``'loss'``: the student's loss dict; ``'predict'``: the student's
        predictions; ``'tensor'``: the student's logits."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.student(inputs, mode='tensor')
        raise RuntimeError(f'Invalid mode "{mode}".')

    def loss(self, inputs: torch.Tensor,
             data_samples: list) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[list] = None) -> List:
        samples = self.student(inputs, data_samples, mode='predict')
        if self.eval_teacher:
            with torch.no_grad():
                scores = self.teacher_reader.logits(inputs).softmax(dim=1)
            for sample, score in zip(samples, scores):
                sample.set_field(score, 'teacher_pred_score')
        return samples

    def resolve_input_size(
            self, input_size: Optional[Sequence[int]]) -> Tuple[int, int, int]:
        """(C, H, W) of the dry runs that read shapes at build time.

        The configured ``input_size``, else the size the teacher was built
        for (a ViT's or Swin's patch embedding); a teacher without one (a
        CNN) needs it given. Teacher and student see the same images, so C
        must be the teacher's input channels.
        """
        built_for = self.teacher_reader.input_size()
        if input_size is None:
            if built_for is None:
                raise ValueError('input_size: the teacher has no patch '
                                 'embedding to read it from; give (C, H, W)')
            return built_for
        size = tuple(input_size)
        if len(size) != 3 or not all(
                isinstance(s, int) and s > 0 for s in size):
            raise ValueError(f'input_size={input_size!r} must be (C, H, W), '
                             'three positive integers')
        if built_for is not None and size[0] != built_for[0]:
            raise ValueError(
                f'input_size={size} has {size[0]} channels but the teacher '
                f'takes {built_for[0]} '
                '(backbone.in_channels); teacher and student see the same '
                'images')
        return size

    def dry_run_shapes(self, input_size) -> torch.Tensor:
        """The tapped student map for one dummy batch (eval, no grad)."""
        was_training = self.student.training
        self.student.eval()
        with torch.no_grad():
            self.student(torch.zeros(2, *input_size), mode='tensor')
            feat = self.student_tap.pop()
        self.student.train(was_training)
        return feat
