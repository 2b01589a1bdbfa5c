"""CAKD: cross-architecture knowledge distillation (Liu et al., ACCV 2022)."""
from typing import Dict, Optional, Tuple

import torch
from mmengine.optim import OptimWrapperDict
from torch.func import functional_call

from mmcakd.utils.checks import (check_int, check_number,
                                        check_options)
from mmcakd.models.teachers import build_teacher_reader
from mmcakd.models.utils import FeatureTap, align_to_grid
from mmcakd.registry import MODELS
from .base import BaseDistiller, ModelCfg


@MODELS.register_module()
class CAKDDistiller(BaseDistiller):
    """Teacher (ViT/DeiT/Swin) -> CNN student through two projectors and MRT.

    One training step (method.md, "How one training step flows"):

    1. the multi-view generator perturbs the batch for the student (MRT);
       the teacher's input is the clean batch or, by ``teacher_view``, the
       same geometric view or the same view;
    2. the teacher sees its input under ``no_grad``: h_T and Q_T, K_T, V_T
       of its last block, its logits and class token
       (:class:`TeacherReader`);
    3. the student's forward gives ``loss_cls``; hooks tap
       ``student_stage``, which is aligned to the teacher's grid, and the
       student's head (its pooled input and its logits);
    4. the PCA projector gives ``loss_pca`` (Eqs. 1-4), the GL projector
       ``loss_gl`` (Eqs. 5-6), and the discriminator ``loss_adv`` on the GL
       tokens (Eq. 9); the release's terms add ``loss_logit`` and
       ``loss_cls_token``; the student and projectors are updated;
    5. every ``d_interval`` steps the discriminator is updated (Eq. 8).

    Total (method.md): L = ce_weight * CE + w(t) * (L_pca + L_gl + L_adv +
    L_logit + L_cls_token), ce_weight = 1 as in the paper, the term
    weights living in the sub-configs. Any component may be ``None`` to
    switch it off (MRT needs GL: D judges h'_S).

    Logged beside the losses every step (diagnostics, not summed):
    ``acc_disc_real`` and ``acc_disc_fake``, the share of teacher tokens D
    calls real and of student tokens it calls fake, and ``share_<term>``,
    each distillation term's share of their sum.

    Args:
        teacher, student, teacher_ckpt, eval_teacher, data_preprocessor:
            see :class:`BaseDistiller`.
        student_stage (str): The student module tapped, e.g.
            ``'backbone.layer4'`` (ResNet-50 for Swin-T, 7x7 at 224 px).
        pca (dict, optional): ``p`` (0.5), ``attn_weight`` (0.2),
            ``vv_weight`` (0.05), ``target`` (``'output'``: the paper's
            attention outputs; ``'map'``: the release's score maps
            Q K^T / sqrt(d)), ``teacher_attn`` (for ``'output'``:
            ``'paper'``, Eq. 2 on the patch tokens; ``'block'``, the
            teacher's real last-block attention, ViT/DeiT only; see
            :class:`TeacherReader`).
        gl (dict, optional): ``group_size`` (4), ``dropout`` (0.1),
            ``loss_weight`` (0.05).
        mrt (dict, optional): ``views`` (MultiViewGenerator kwargs, with
            ``teacher_view``; or None for no views), ``adv_weight`` (lambda,
            0.05), ``adv_form`` (``'non_saturating'`` or ``'minimax'``),
            ``d_interval`` (5), ``discriminator`` (TokenDiscriminator
            kwargs).
        logit (dict, optional): The release's logit term,
            :class:`LogitLoss` kwargs: ``form`` (``'mse'``, the release, or
            ``'kl'``), ``temperature``, ``loss_weight`` (release: 1).
            ``None`` (default): off.
        cls_token (dict, optional): The release's class-token term:
            ``loss_weight`` (release: 1) of MSE between a linear projection
            of the student's pooled feature (its head's input) and the
            teacher's class token (or pooled pre-logit feature).
            ``None`` (default): off.
        ce_weight (float): Weight of the student's CE (paper: 1; logit KD's
            published recipe uses 1 - alpha = 0.1 beside its KL term).
        ramp (dict, optional): The distillation weight w(t):
            ``dict(begin=25, end=75, max_weight=0.2, by_epoch=True)`` is 0
            before ``begin``, rises linearly to 1 at ``end`` and is capped
            at ``max_weight`` (the release's schedule). ``None``: w = 1.
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
                 logit: Optional[dict] = None,
                 cls_token: Optional[dict] = None,
                 ce_weight: float = 1.0,
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
        pca = None if pca is None else dict(pca)
        vv_weight = None if pca is None else check_number(
            pca.pop('vv_weight', 0.05), 'pca.vv_weight')
        target = None if pca is None else pca.pop('target', 'output')
        attention = None if pca is None else pca.pop('teacher_attn', 'paper')
        if target == 'map':
            if attention == 'block':
                raise ValueError("pca.teacher_attn='block' applies to "
                                 "target='output'; target='map' reads the "
                                 "teacher's score maps")
            attention = 'map'
        self.reader = build_teacher_reader(
            self.teacher,
            tokens=True,
            method='CAKD',
            attention=attention,
            kernel=self.accel.attention_kernel,
            relation=bool(vv_weight),
            cls_token=cls_token is not None)
        if mrt is not None and gl is None:
            raise ValueError('mrt needs gl: the discriminator judges the GL '
                             'projector\'s tokens; set mrt=None or enable gl')
        if ((logit is not None or cls_token is not None)
                and not hasattr(self.student, 'head')):
            raise ValueError('student: the logit and cls_token terms need an '
                             'mmpretrain classifier with a `head`')
        self.logit_tap = (FeatureTap(self.student, 'head', 'logit')
                          if logit is not None else None)
        self.pooled_tap = (FeatureTap(self.student, 'head', 'cls_token',
                                      inputs=True)
                           if cls_token is not None else None)
        shapes = self._read_shapes(input_size)
        c_s, c_t, heads, grid = shapes['stage']
        self.grid = grid

        self.pca = self.pca_loss = None
        if pca is not None:
            self.pca = MODELS.build(
                dict(type='PCAProjector', in_channels=c_s, embed_dims=c_t,
                     num_heads=heads, p=pca.pop('p', 0.5),
                     kernel=self.accel.attention_kernel, target=target))
            self.pca_loss = MODELS.build(
                dict(type='PCALoss',
                     attn_weight=check_number(
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
                dict(type='GLLoss', loss_weight=check_number(
                    gl.pop('loss_weight', 0.05), 'gl.loss_weight')))
            self._no_extra(gl, 'gl')

        self.discriminator = self.adv_loss = None
        self.d_interval = 1
        if mrt is not None:
            mrt = dict(mrt)
            # MRT's views are the module every method can train with
            # (BaseDistiller.views), built here, after the projectors and
            # before the discriminator, so that every part starts from the
            # weights it had before the baselines took views too.
            self.views = self.build_views(mrt.pop('views', dict()),
                                          'mrt.views')
            # Student steps per discriminator step (default 5).
            self.d_interval = check_int(mrt.pop('d_interval', 5),
                                        'mrt.d_interval')
            discriminator = dict(mrt.pop('discriminator', dict()))
            check_options(discriminator, ('hidden_channels', ),
                          'mrt.discriminator')
            self.discriminator = MODELS.build(
                dict(type='TokenDiscriminator', in_channels=c_t,
                     field='mrt.discriminator', **discriminator))
            self.adv_loss = MODELS.build(
                dict(type='AdversarialLoss',
                     loss_weight=check_number(
                         mrt.pop('adv_weight', 0.05), 'mrt.adv_weight'),
                     form=mrt.pop('adv_form', 'non_saturating')))
            self._no_extra(mrt, 'mrt')

        self.logit_loss = None
        if logit is not None:
            logit = dict(logit)
            unknown = sorted(set(logit) -
                             {'form', 'temperature', 'loss_weight'})
            if unknown:
                raise ValueError(f'logit: unknown option(s) {unknown}; '
                                 'expected form, temperature, loss_weight')
            try:
                self.logit_loss = MODELS.build(dict(type='LogitLoss', **logit))
            except ValueError as err:
                raise ValueError(f'logit.{err}') from None

        self.cls_proj = self.cls_token_loss = None
        if cls_token is not None:
            cls_token = dict(cls_token)
            c_pool, c_cls = shapes['cls_token']
            self.cls_proj = MODELS.build(
                dict(type='ClassTokenProjector', in_channels=c_pool,
                     embed_dims=c_cls))
            self.cls_token_loss = MODELS.build(
                dict(type='ClassTokenLoss', loss_weight=check_number(
                    cls_token.pop('loss_weight', 1.0),
                    'cls_token.loss_weight')))
            self._no_extra(cls_token, 'cls_token')
        self.ce_weight = check_number(ce_weight, 'ce_weight')
        self.ramp = self.check_ramp(ramp)
        # Student steps taken: the discriminator's update phase, saved with
        # the model so that a resumed run keeps it.
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))

    @staticmethod
    def _no_extra(cfg: dict, field: str) -> None:
        if cfg:
            raise ValueError(f'{field}: unknown option(s) {sorted(cfg)}')

    def _read_shapes(self, input_size) -> Dict[str, tuple]:
        """From one dry forward of both: ``stage`` (C_S, C_T, heads,
        (H_T, W_T)) and, with the cls_token term, ``cls_token`` (C_pool,
        C_cls)."""
        input_size = self.resolve_input_size(input_size)
        patch = self.teacher_reader.patch_size()
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
        shapes = dict(stage=(feat.shape[1], t.tokens.shape[-1], t.q.shape[1],
                             t.grid))
        if self.logit_tap is not None:
            k_s = self.logit_tap.pop().shape[-1]
            if k_s != t.logits.shape[-1]:
                raise ValueError(
                    f'logit: the student predicts {k_s} classes, the '
                    f'teacher {t.logits.shape[-1]}; the logit term needs '
                    'the same classes (set logit=None)')
        if self.pooled_tap is not None:
            pooled = self.pooled_tap.pop()
            if pooled.dim() != 2:
                raise ValueError(
                    'cls_token: the student\'s head receives shape '
                    f'{tuple(pooled.shape)}, not a pooled (B, C) feature; '
                    'give the student a pooling neck (GlobalAveragePooling)')
            shapes['cls_token'] = (pooled.shape[1], t.cls.shape[-1])
        return shapes

    def _losses(self, inputs: torch.Tensor, data_samples: list
                ) -> Tuple[Dict[str, torch.Tensor], dict]:
        """The student's loss terms, and what the D update and the
        diagnostics need: ``real`` h_T, ``fake`` h'_S and ``fake_logits``
        D(h'_S) (with MRT)."""
        for tap in (self.logit_tap, self.pooled_tap):
            if tap is not None:  # nothing left from a predict call
                tap.clear()
        views, teacher_in = self.view_inputs(inputs)
        t = self.run_teacher(self.reader, teacher_in)
        # CE is computed on what the student sees.
        losses = self.student_losses(views, data_samples)
        feat = align_to_grid(self.student_tap.pop(), t.grid)
        w = self.distill_weight()
        extras = {}
        if self.pca is not None:
            attn_s, v_s = self.pca(feat, t.qkv)
            losses['loss_pca'] = w * self.pca_loss(attn_s, v_s, t.attn,
                                                   t.relation)
        if self.gl is not None:
            h_s = self.gl(feat)
            losses['loss_gl'] = w * self.gl_loss(h_s, t.tokens)
            if self.discriminator is not None:
                fake_logits = self._judge_frozen(h_s)
                losses['loss_adv'] = w * self.adv_loss(fake_logits)
                extras = dict(real=t.tokens, fake=h_s,
                              fake_logits=fake_logits.detach())
        if self.logit_loss is not None:
            losses['loss_logit'] = w * self.logit_loss(self.logit_tap.pop(),
                                                       t.logits)
        if self.cls_proj is not None:
            losses['loss_cls_token'] = w * self.cls_token_loss(
                self.cls_proj(self.pooled_tap.pop()), t.cls)
        return losses, extras

    def _judge_frozen(self, tokens: torch.Tensor) -> torch.Tensor:
        """D(tokens) with D's parameters detached: the student's adversarial
        gradient reaches the student through ``tokens`` but never D."""
        d = getattr(self.discriminator, 'module', self.discriminator)
        params = {n: p.detach() for n, p in d.named_parameters()}
        return functional_call(d, params, (tokens, ))

    @torch.no_grad()
    def diagnostics(self, losses: Dict[str, torch.Tensor],
                    extras: dict) -> Dict[str, torch.Tensor]:
        """What the losses alone do not show, for the log.

        ``acc_disc_real`` / ``acc_disc_fake``: the share of teacher tokens
        that D calls real (logit > 0) and of student tokens it calls fake;
        both near 1 means D wins outright. ``share_<term>``: each
        distillation term over their sum, |L_x| / sum |L_y| (0 while the
        ramp's weight is 0).
        """
        out = {}
        if extras:
            # Outside the student's autocast: D's own (fp32) precision.
            d_dtype = next(self.discriminator.parameters()).dtype
            real = self._judge_frozen(extras['real'].to(d_dtype))
            out['acc_disc_real'] = (real > 0).float().mean()
            out['acc_disc_fake'] = (extras['fake_logits'] < 0).float().mean()
        terms = {k[len('loss_'):]: v.detach().abs().float()
                 for k, v in losses.items()
                 if k.startswith('loss_') and k != 'loss_cls'}
        if terms:
            # 0 / tiny = 0 while the ramp holds every term at 0.
            total = torch.stack(list(terms.values())).sum().clamp(
                min=torch.finfo(torch.float32).tiny)
            out.update({f'share_{name}': value / total
                        for name, value in terms.items()})
        return out

    def loss(self, inputs: torch.Tensor,
             data_samples: list) -> Dict[str, torch.Tensor]:
        """The student's losses: ``loss_cls``, ``loss_pca``, ``loss_gl``,
        ``loss_adv``, ``loss_logit``, ``loss_cls_token`` (those of enabled
        components)."""
        return self._losses(inputs, data_samples)[0]

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One student update, and every ``d_interval`` steps one of D."""
        data = self.data_preprocessor(data, True)
        student_wrapper = optim_wrapper['student']
        with student_wrapper.optim_context(self):
            losses, extras = self._losses(data['inputs'],
                                          data['data_samples'])
        parsed, log_vars = self.parse_losses(losses)
        log_vars.update(self.diagnostics(losses, extras))
        student_wrapper.update_params(parsed)
        self.num_steps += 1
        if extras and int(self.num_steps) % self.d_interval == 0:
            real, fake = extras['real'], extras['fake']
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
