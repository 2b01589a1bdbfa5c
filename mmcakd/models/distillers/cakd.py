"""CAKD: cross-architecture knowledge distillation (Liu et al., ACCV 2022)."""
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
from mmengine.optim import OptimWrapperDict
from torch import nn
from torch.func import functional_call

from mmcakd.models.projectors import BaseProjector
from mmcakd.models.teachers import TeacherFeatures, build_teacher_reader
from mmcakd.models.utils import FeatureTap, align_to_grid
from mmcakd.registry import MODELS, PROJECTORS
from mmcakd.utils.checks import (check_class_options, check_int,
                                 check_number, check_options)
from .base import BaseDistiller, build_loss


class ProjectorSpec(NamedTuple):
    """One ``model.projectors`` entry, checked before anything is built."""
    name: str
    cls: type  # a registered BaseProjector
    cfg: dict  # its options (``type`` included, ``loss`` taken out)
    loss: nn.Module
    asks: dict  # what it asks of the teacher's reader


@MODELS.register_module()
class CAKDDistiller(BaseDistiller):
    """Teacher (ViT/DeiT/Swin) -> CNN student through two projectors and MRT.

    One training step (architecture.md, "How one training step flows"):

    1. the multi-view generator perturbs the batch for the student (MRT);
       the teacher's input is the clean batch or, by ``teacher_view``, the
       same geometric view or the same view;
    2. the teacher sees its input under ``no_grad``: h_T and Q_T, K_T, V_T
       of its last block, its logits and class token
       (:class:`TeacherReader`);
    3. the student's forward gives ``loss_cls``; hooks tap
       ``student_stage``, which is aligned to the teacher's grid, and the
       student's head (its pooled input and its logits);
    4. each projector of ``model.projectors`` gives ``loss_<name>``: in the
       paper's form the PCA projector ``loss_pca`` (Eqs. 1-4) and the GL
       projector ``loss_gl`` (Eqs. 5-6), and the discriminator ``loss_adv``
       on the GL tokens (Eq. 9); the release's terms add ``loss_logit`` and
       ``loss_cls_token``; the student and projectors are updated;
    5. every ``d_interval`` steps the discriminator is updated (Eq. 8).

    Total (method.md): L = ce_weight * CE + w(t) * (sum of the projectors'
    losses + L_adv), ce_weight = 1 as in the paper, the term weights
    living in each projector's ``loss``. Any projector, and MRT, may be
    ``None`` to switch it off (MRT needs a projector that gives tokens: D
    judges h'_S).

    Logged beside the losses every step (diagnostics, not summed):
    ``acc_disc_real`` and ``acc_disc_fake``, the share of teacher tokens D
    calls real and of student tokens it calls fake, and ``share_<term>``,
    each distillation term's share of their sum.

    Args:
        student_stage (str): The student module tapped, e.g.
            ``'backbone.layer4'`` (ResNet-50 for Swin-T, 7x7 at 224 px).
        projectors (dict): ``name -> dict(type=..., loss=dict(type=...),
            **options)`` (or None to switch one off), built in this order
            from the ``PROJECTORS`` registry, each logged as
            ``loss_<name>``; see :class:`BaseProjector`. The paper's are
            ``pca=dict(type='PCAProjector', p, target, teacher_attn,
            loss=dict(type='PCALoss', attn_weight, vv_weight))`` and
            ``gl=dict(type='GLProjector', group_size, dropout,
            loss=dict(type='GLLoss', loss_weight))``; the release adds
            ``logit=dict(type='LogitProjector', loss=dict(type='LogitLoss',
            form, temperature, loss_weight))`` and
            ``cls_token=dict(type='ClassTokenProjector',
            loss=dict(type='ClassTokenLoss', loss_weight))``.
        mrt (dict, optional): ``views`` (MultiViewGenerator kwargs, with
            ``teacher_view``; or None for no views), ``adv_weight`` (lambda,
            0.05), ``adv_form`` (``'non_saturating'`` or ``'minimax'``),
            ``d_interval`` (5), ``discriminator`` (TokenDiscriminator
            kwargs). The discriminator judges the tokens of the projector
            that gives them (GL), and is built right after it.
        Others (``ce_weight``, paper: 1; ``ramp``, the release's
            ``dict(begin=25, end=75, max_weight=0.2)``; ``input_size``
            ...): see :class:`BaseDistiller`.
    """

    takes_distill_loss = False

    def __init__(self,
                 student_stage: str,
                 projectors: Optional[dict] = None,
                 mrt: Optional[dict] = dict(),
                 **kwargs) -> None:
        if not student_stage:
            raise ValueError('student_stage must name the student module to '
                             "distil into, e.g. 'backbone.layer3'")
        for field in ('views', 'distill_loss'):
            if kwargs.get(field) is not None:
                raise ValueError(
                    f'{field}: CAKD takes its views from mrt.views and its '
                    'losses from model.projectors')
        super().__init__(student_stage=student_stage, **kwargs)
        self.views = self.discriminator = self.adv_loss = None
        self.d_interval = 1
        specs = self._projector_specs(projectors)
        if mrt is not None and not any(s.cls.gives_tokens for s in specs):
            raise ValueError(
                'mrt needs a projector that gives tokens (gl): the '
                'discriminator judges them; set mrt=None or enable one')
        options = dict(attention=None, relation=False, cls_token=False)
        for spec in specs:
            for key, value in spec.asks.items():
                if value in (None, False):  # not asked
                    continue
                if options.get(key) not in (None, False, value):
                    raise ValueError(
                        f'projectors.{spec.name}: asks the teacher for '
                        f'{key}={value!r}, another projector for '
                        f'{options[key]!r}')
                options[key] = value
        self.reader = build_teacher_reader(
            self.teacher,
            tokens=True,
            method='CAKD',
            kernel=self.attention_kernel,
            **options)
        self.taps = dict(stage=self.student_tap)
        for spec in specs:
            kind = spec.cls.student_input
            if kind not in self.taps:
                self.taps[kind] = self._student_tap(
                    kind, f'projectors.{spec.name}')
        student_inputs, t = self._dry_run()
        self.grid = t.grid

        # name -> (student input, teacher inputs, targets, gives tokens):
        # read in every step (a projector may sit in a DDP wrapper).
        self.projector_io: Dict[str, tuple] = {}
        for name, cls, cfg, loss, _ in specs:
            field = f'projectors.{name}'
            try:
                shapes = cls.shape_args(student_inputs[cls.student_input], t)
            except ValueError as err:
                raise ValueError(f'{field}: {err}') from None
            given = sorted(set(cfg) & set(shapes))
            if given:
                raise ValueError(f'{field}: {given} are read from the '
                                 'models; leave them out')
            try:
                projector = PROJECTORS.build(dict(cfg, **shapes))
            except ValueError as err:  # a bad option, named by its path
                raise ValueError(f'{field}.{err}') from None
            self.add_module(name, projector)
            self.add_module(f'{name}_loss', loss)
            self.projector_io[name] = (cls.student_input, cls.teacher_inputs,
                                       cls.targets, cls.gives_tokens)
            if (cls.gives_tokens and mrt is not None
                    and self.discriminator is None):
                self._build_mrt(dict(mrt), t.tokens.shape[-1])
        # Student steps taken: the discriminator's update phase, saved with
        # the model so that a resumed run keeps it.
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))
        self.legacy_names = {cls.legacy_name: name
                             for name, cls, _, _, _ in specs
                             if cls.legacy_name}
        self._register_load_state_dict_pre_hook(self.rename_legacy_keys)

    def rename_legacy_keys(self, state_dict: dict, prefix: str,
                            *args) -> None:
        """Read a checkpoint saved before the projectors were registered:
        a projector's keys under its former attribute (``legacy_name``)
        are taken as its entry's (a resume would otherwise start it
        afresh, mmengine loading with ``strict=False``)."""
        for old, name in self.legacy_names.items():
            for key in [k for k in state_dict
                        if k.startswith(f'{prefix}{old}.')]:
                state_dict[f'{prefix}{name}.{key[len(prefix + old) + 1:]}'] \
                    = state_dict.pop(key)

    def _projector_specs(self, projectors: Optional[dict]
                         ) -> List[ProjectorSpec]:
        """Every enabled entry, in the config's order; a bad one is a
        ValueError naming it."""
        if not isinstance(projectors, dict) or not any(
                cfg is not None for cfg in projectors.values()):
            raise ValueError(
                'projectors: CAKD needs at least one, e.g. '
                "dict(gl=dict(type='GLProjector')) "
                '(configs/_base_/distillers/cakd.py)')
        specs = []
        # The distiller's own attributes (those set later included) and log
        # keys: a projector named after one would silently replace it.
        taken = set(dir(self)) | {'reader', 'taps', 'grid', 'projector_io',
                                  'num_steps'}
        for name, cfg in projectors.items():
            if cfg is None:
                continue
            field = f'projectors.{name}'
            if (not name.isidentifier() or {name, f'{name}_loss'} & taken
                    or name in ('cls', 'adv', 'disc')):
                raise ValueError(
                    f'{field}: {name!r} is taken by the distiller, its log '
                    '(loss_cls, loss_adv, loss_disc) or another projector; '
                    'name the projector otherwise (a Python identifier)')
            taken |= {name, f'{name}_loss'}
            if not isinstance(cfg, dict) or 'type' not in cfg:
                raise ValueError(f'{field} must be a dict with a `type` (a '
                                 f'registered projector) or None, got {cfg!r}')
            cls = PROJECTORS.get(cfg['type'])
            if cls is None or not issubclass(cls, BaseProjector):
                raise ValueError(
                    f'{field}.type={cfg["type"]!r} is not a registered '
                    f'projector ({", ".join(sorted(PROJECTORS.module_dict))})'
                    '; docs/new_models.md shows how to add one')
            cfg = dict(cfg)
            # A loss without a type (or none) is the projector's default
            # loss with those options.
            loss = cfg.pop('loss', {})
            if isinstance(loss, dict) and 'type' not in loss:
                loss = dict(cls.default_loss, **loss)
            loss = build_loss(loss, f'{field}.loss')
            # nn.Module's **kwargs is not the projector's.
            check_class_options(cls, cfg, field, open_kwargs=False)
            try:
                asks = cls.reader_options(cfg, loss)
            except ValueError as err:
                raise ValueError(f'{field}.{err}') from None
            specs.append(ProjectorSpec(name, cls, cfg, loss, asks))
        return specs

    def _student_tap(self, kind: str, field: str) -> FeatureTap:
        """A tap on the student's head: its output (``'logits'``) or its
        input (``'pooled'``)."""
        if kind not in ('logits', 'pooled'):
            raise ValueError(f'{field}: student_input={kind!r} must be '
                             "'stage', 'logits' or 'pooled'")
        if not hasattr(self.student, 'head'):
            raise ValueError(f'student: {field} reads the student\'s {kind}; '
                             'it needs an mmpretrain classifier with a `head`')
        return FeatureTap(self.student, 'head', field,
                          inputs=kind == 'pooled')

    def _build_mrt(self, mrt: dict, channels: int) -> None:
        """MRT's views (the module every method can train with,
        BaseDistiller.views), its discriminator over ``channels``-wide
        tokens and the adversarial loss. Built right after the projector
        whose tokens D judges, so that every part keeps the initial weights
        it had when the projectors were fixed attributes."""
        self.views = self.build_views(mrt.pop('views', dict()), 'mrt.views')
        # Student steps per discriminator step (default 5).
        self.d_interval = check_int(mrt.pop('d_interval', 5),
                                    'mrt.d_interval')
        discriminator = dict(mrt.pop('discriminator', dict()))
        check_options(discriminator, ('hidden_channels', ),
                      'mrt.discriminator')
        self.discriminator = MODELS.build(
            dict(type='TokenDiscriminator', in_channels=channels,
                 field='mrt.discriminator', **discriminator))
        self.adv_loss = MODELS.build(
            dict(type='AdversarialLoss',
                 loss_weight=check_number(
                     mrt.pop('adv_weight', 0.05), 'mrt.adv_weight'),
                 form=mrt.pop('adv_form', 'non_saturating')))
        if mrt:
            raise ValueError(f'mrt: unknown option(s) {sorted(mrt)}')

    def _dry_run(self) -> Tuple[Dict[str, torch.Tensor], TeacherFeatures]:
        """One dry forward of both for a batch of 2: each tapped student
        input (the stage map aligned to the teacher's grid) and the
        teacher's features."""
        input_size = self.input_size
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
        inputs = {kind: tap.pop() for kind, tap in self.taps.items()
                  if kind != 'stage'}
        inputs['stage'] = align_to_grid(feat, t.grid)
        return inputs, t

    def _losses(self, inputs: torch.Tensor, data_samples: list
                ) -> Tuple[Dict[str, torch.Tensor], dict]:
        """The student's loss terms, and what the D update and the
        diagnostics need (with MRT): ``real`` h_T and ``fake`` h'_S, both
        (B, N, C_T), and ``fake_logits`` D(h'_S), (B, N)."""
        for kind, tap in self.taps.items():
            if kind != 'stage':  # nothing left from a predict call
                tap.clear()
        views, teacher_in = self.view_inputs(inputs)
        t = self.run_teacher(self.reader, teacher_in)
        # CE is computed on what the student sees.
        losses = self.student_losses(views, data_samples)
        student = {kind: tap.pop() for kind, tap in self.taps.items()}
        student['stage'] = align_to_grid(student['stage'], t.grid)
        w = self.distill_weight()
        extras = {}
        for name, (kind, t_inputs, targets,
                   gives_tokens) in self.projector_io.items():
            out = getattr(self, name)(student[kind],
                                      *(getattr(t, f) for f in t_inputs))
            out = out if isinstance(out, tuple) else (out, )
            losses[f'loss_{name}'] = w * getattr(self, f'{name}_loss')(
                *out, *(getattr(t, f) for f in targets))
            if gives_tokens and self.discriminator is not None and \
                    not extras:
                fake_logits = self._judge_frozen(out[0])
                losses['loss_adv'] = w * self.adv_loss(fake_logits)
                extras = dict(real=t.tokens, fake=out[0],
                              fake_logits=fake_logits.detach())
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
        """The student's losses: ``loss_cls``, one ``loss_<name>`` per
        projector and, with MRT, ``loss_adv``."""
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
