"""CAKD: cross-architecture knowledge distillation (Liu et al., ACCV 2022)."""
from typing import Dict, Optional, Tuple

import torch
from mmengine.optim import OptimWrapperDict
from torch.func import functional_call

from mmcakd.models.utils import TeacherReader, align_to_grid
from mmcakd.registry import MODELS
from .base import BaseDistiller, ModelCfg


def _check_weight(value: float, field: str) -> float:
    if not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f'{field}={value!r} must be a number >= 0')
    return float(value)


@MODELS.register_module()
class CAKDDistiller(BaseDistiller):
    """Teacher (ViT/DeiT/Swin) -> CNN student through two projectors and MRT.

    One training step (method.md, "How one training step flows"):

    1. the teacher sees the clean batch under ``no_grad``: h_T and Q_T, K_T,
       V_T of its last block (:class:`TeacherReader`);
    2. the multi-view generator perturbs the batch for the student (MRT);
    3. the student's forward gives ``loss_cls``; a hook taps
       ``student_stage``, which is aligned to the teacher's grid;
    4. the PCA projector gives ``loss_pca`` (Eqs. 1-4), the GL projector
       ``loss_gl`` (Eqs. 5-6), and the discriminator ``loss_adv`` on the GL
       tokens (Eq. 9); the student and projectors are updated;
    5. every ``d_interval`` steps the discriminator is updated (Eq. 8).

    Total (method.md): L = CE + w(t) * (L_pca + L_gl + L_adv), the term
    weights living in the sub-configs. Any of ``pca``, ``gl``, ``mrt`` may be
    ``None`` to switch that component off (MRT needs GL: D judges h'_S).

    Args:
        teacher, student, teacher_ckpt, eval_teacher, data_preprocessor:
            see :class:`BaseDistiller`.
        student_stage (str): The student module tapped, e.g.
            ``'backbone.layer4'`` (ResNet-50 for Swin-T, 7x7 at 224 px).
        pca (dict, optional): ``p`` (0.5), ``attn_weight`` (0.2),
            ``vv_weight`` (0.05), ``teacher_attn`` (``'paper'``: Eq. 2 on
            the patch tokens; ``'block'``: the teacher's real last-block
            attention, ViT/DeiT only, see :class:`TeacherReader`).
        gl (dict, optional): ``group_size`` (4), ``dropout`` (0.1),
            ``loss_weight`` (0.05).
        mrt (dict, optional): ``views`` (MultiViewGenerator kwargs, or None
            for no views), ``adv_weight`` (lambda, 0.05), ``adv_form``
            (``'non_saturating'`` or ``'minimax'``), ``d_interval`` (5),
            ``discriminator`` (TokenDiscriminator kwargs).
        ramp (dict, optional): Warm-up of the distillation weight w(t):
            ``dict(begin=25, end=35, by_epoch=True)`` is 0 before ``begin``,
            rises linearly and is 1 from ``end`` on. ``None``: w = 1.
        input_size (tuple, optional): (C, H, W) of the training images, for
            the dry run that reads the shapes; defaults to the teacher's
            patch embedding input size.
        accel (dict, optional): Speed switches, see :class:`BaseDistiller`.
    """

    def __init__(self,
                 teacher: ModelCfg,
                 student: ModelCfg,
                 student_stage: str,
                 teacher_ckpt: Optional[str] = None,
                 pca: Optional[dict] = dict(),
                 gl: Optional[dict] = dict(),
                 mrt: Optional[dict] = dict(),
                 ramp: Optional[dict] = None,
                 input_size: Optional[Tuple[int, int, int]] = None,
                 eval_teacher: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 accel: Optional[dict] = None) -> None:
        if not student_stage:
            raise ValueError('student_stage must name the student module to '
                             "distil into, e.g. 'backbone.layer3'")
        super().__init__(teacher, student, teacher_ckpt, student_stage,
                         eval_teacher, data_preprocessor, init_cfg, accel)
        vv_weight = None if pca is None else _check_weight(
            pca.get('vv_weight', 0.05), 'pca.vv_weight')
        self.reader = TeacherReader(
            self.teacher,
            None if pca is None else pca.get('teacher_attn', 'paper'),
            kernel=self.accel.attention_kernel,
            relation=bool(vv_weight))
        if mrt is not None and gl is None:
            raise ValueError('mrt needs gl: the discriminator judges the GL '
                             'projector\'s tokens; set mrt=None or enable gl')
        shapes = self._read_shapes(input_size)
        c_s, c_t, heads, grid = shapes
        self.grid = grid

        self.pca = self.pca_loss = None
        if pca is not None:
            pca = dict(pca)
            self.pca = MODELS.build(
                dict(type='PCAProjector', in_channels=c_s, embed_dims=c_t,
                     num_heads=heads, p=pca.pop('p', 0.5),
                     kernel=self.accel.attention_kernel))
            pca.pop('teacher_attn', None)  # used by the reader
            pca.pop('vv_weight', None)
            self.pca_loss = MODELS.build(
                dict(type='PCALoss',
                     attn_weight=_check_weight(
                         pca.pop('attn_weight', 0.2), 'pca.attn_weight'),
                     vv_weight=vv_weight))
            self._no_extra(pca, 'pca')

        self.gl = self.gl_loss = None
        if gl is not None:
            gl = dict(gl)
            self.gl = MODELS.build(
                dict(type='GLProjector', in_channels=c_s, embed_dims=c_t,
                     grid=grid, group_size=gl.pop('group_size', 4),
                     dropout=gl.pop('dropout', 0.1)))
            self.gl_loss = MODELS.build(
                dict(type='GLLoss', loss_weight=_check_weight(
                    gl.pop('loss_weight', 0.05), 'gl.loss_weight')))
            self._no_extra(gl, 'gl')

        self.views = self.discriminator = self.adv_loss = None
        self.d_interval = 1
        if mrt is not None:
            mrt = dict(mrt)
            views = mrt.pop('views', dict())
            if views is not None:
                self.views = MODELS.build(
                    dict(type='MultiViewGenerator', **views))
            self.d_interval = mrt.pop('d_interval', 5)
            if not isinstance(self.d_interval, int) or self.d_interval < 1:
                raise ValueError(f'mrt.d_interval={self.d_interval!r} must '
                                 'be an integer >= 1 (student steps per '
                                 'discriminator step, default 5)')
            self.discriminator = MODELS.build(
                dict(type='TokenDiscriminator', in_channels=c_t,
                     **mrt.pop('discriminator', dict())))
            self.adv_loss = MODELS.build(
                dict(type='AdversarialLoss',
                     loss_weight=_check_weight(
                         mrt.pop('adv_weight', 0.05), 'mrt.adv_weight'),
                     form=mrt.pop('adv_form', 'non_saturating')))
            self._no_extra(mrt, 'mrt')
        self.ramp = self.check_ramp(ramp)
        # Student steps taken: the discriminator's update phase, saved with
        # the model so that a resumed run keeps it.
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))

    @staticmethod
    def _no_extra(cfg: dict, field: str) -> None:
        if cfg:
            raise ValueError(f'{field}: unknown option(s) {sorted(cfg)}')

    def _read_shapes(self, input_size) -> tuple:
        """(C_S, C_T, heads, (H_T, W_T)) from one dry forward of both."""
        input_size = self.resolve_input_size(input_size)
        patch = tuple(self.teacher.backbone.patch_embed.projection.stride)
        if any(s % p for s, p in zip(input_size[1:], patch)):
            raise ValueError(
                f'input_size={input_size}: H and W must be multiples of the '
                f'teacher\'s patch size {patch}, so that every pixel falls in '
                'a token; resize or crop the images')
        try:
            feat = self.dry_run_shapes(input_size)
        except RuntimeError as err:
            raise ValueError(
                f'student cannot take the teacher\'s input {input_size}: '
                f'{str(err).splitlines()[0]}; check the student\'s '
                'backbone.in_channels') from None
        with torch.no_grad():
            t = self.reader(torch.zeros(2, *input_size))
        if feat.dim() != 4:
            raise ValueError(f'student_stage={self.student_tap.name!r} '
                             f'outputs shape {tuple(feat.shape)}; CAKD needs '
                             'a (B, C, H, W) feature map')
        return feat.shape[1], t.tokens.shape[-1], t.q.shape[1], t.grid

    def _losses(self, inputs: torch.Tensor, data_samples: list
                ) -> Tuple[Dict[str, torch.Tensor], Optional[tuple]]:
        """The student's loss terms, and (h_T, h'_S) for the D update."""
        t = self.run_teacher(self.reader, inputs)
        views = self.views(inputs)[0] if (self.views is not None
                                          and self.training) else inputs
        # mmpretrain heads call their cross-entropy `loss`.
        losses = {('loss_cls' if k == 'loss' else k): v
                  for k, v in self.student(views, data_samples,
                                           mode='loss').items()}
        feat = align_to_grid(self.student_tap.pop(), t.grid)
        w = self.distill_weight()
        tokens = None
        if self.pca is not None:
            attn_s, v_s = self.pca(feat, t.qkv)
            losses['loss_pca'] = w * self.pca_loss(attn_s, v_s, t.attn,
                                                   t.relation)
        if self.gl is not None:
            h_s = self.gl(feat)
            losses['loss_gl'] = w * self.gl_loss(h_s, t.tokens)
            if self.discriminator is not None:
                losses['loss_adv'] = w * self.adv_loss(
                    self._judge_frozen(h_s))
                tokens = (t.tokens, h_s)
        return losses, tokens

    def _judge_frozen(self, tokens: torch.Tensor) -> torch.Tensor:
        """D(tokens) with D's parameters detached: the student's adversarial
        gradient reaches the student through ``tokens`` but never D."""
        d = getattr(self.discriminator, 'module', self.discriminator)
        params = {n: p.detach() for n, p in d.named_parameters()}
        return functional_call(d, params, (tokens, ))

    def loss(self, inputs: torch.Tensor,
             data_samples: list) -> Dict[str, torch.Tensor]:
        """The student's losses: ``loss_cls``, ``loss_pca``, ``loss_gl``,
        ``loss_adv`` (those of enabled components)."""
        return self._losses(inputs, data_samples)[0]

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One student update, and every ``d_interval`` steps one of D."""
        data = self.data_preprocessor(data, True)
        student_wrapper = optim_wrapper['student']
        with student_wrapper.optim_context(self):
            losses, tokens = self._losses(data['inputs'],
                                          data['data_samples'])
        parsed, log_vars = self.parse_losses(losses)
        student_wrapper.update_params(parsed)
        self.num_steps += 1
        if tokens is not None and int(self.num_steps) % self.d_interval == 0:
            real, fake = tokens
            d_wrapper = optim_wrapper['discriminator']
            with d_wrapper.optim_context(self.discriminator):
                # One forward over real and fake: a single DDP pass.
                logits = self.discriminator(
                    torch.cat([real, fake.detach()]).to(fake.dtype))
                loss_disc = self.adv_loss.discriminator_loss(
                    *logits.split([real.shape[0], fake.shape[0]]))
            d_wrapper.update_params(loss_disc)
            log_vars['loss_disc'] = loss_disc.detach()
        return log_vars
