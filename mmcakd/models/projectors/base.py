"""What CAKD asks of a projector (``model.projectors`` entries)."""
from typing import Dict, Optional, Tuple

import torch
from torch import nn

from mmcakd.models.teachers import TeacherFeatures


class BaseProjector(nn.Module):
    """Maps what it reads from the student into a teacher space, where its
    loss compares the two.

    :class:`CAKDDistiller` builds one per ``model.projectors`` entry
    (``dict(type=..., loss=dict(type=...), **options)``), in the config's
    order, and in every step computes

        loss_<name> = w(t) * loss(*projector(x, *teacher_inputs),
                                  *targets)

    with ``x`` the student input it names, ``teacher_inputs`` and
    ``targets`` the :class:`TeacherFeatures` fields it names. A projector
    declares all of that in class attributes, so that a new one is a new
    registered file and a config entry (docs/new_models.md):

    Attributes:
        student_input (str): What it reads from the student: ``'stage'``
            (the ``student_stage`` map aligned to the teacher's grid,
            (B, C_S, H_T, W_T)), ``'logits'`` (B, K) or ``'pooled'`` (the
            student head's input, (B, C)).
        teacher_inputs (tuple[str]): TeacherFeatures fields passed to its
            forward after ``x`` (the PCA projector's ``'qkv'``).
        targets (tuple[str]): TeacherFeatures fields passed to its loss
            after its own outputs.
        gives_tokens (bool): Its output is h'_S, (B, N, C_T) tokens in the
            teacher's token space, which MRT's discriminator judges against
            h_T (the GL projector).
        default_loss (dict): The loss config when the entry gives none.
        legacy_name (str, optional): The attribute the projector had in
            checkpoints saved before projectors were registered; such a
            checkpoint's keys are read under the entry's name.
    """

    student_input = 'stage'
    teacher_inputs: Tuple[str, ...] = ()
    targets: Tuple[str, ...] = ()
    gives_tokens = False
    default_loss: dict = {}
    legacy_name: Optional[str] = None

    @classmethod
    def reader_options(cls, cfg: dict, loss: nn.Module) -> Dict[str, object]:
        """What the teacher's reader must compute for this entry: its
        options ``cfg`` and its built ``loss`` decide which
        :class:`TeacherReader` keywords (``attention``, ``relation``,
        ``cls_token``) it needs."""
        return {}

    @classmethod
    def shape_args(cls, student: torch.Tensor,
                   teacher: TeacherFeatures) -> Dict[str, object]:
        """Constructor arguments read from one dry run: ``student`` is the
        student input it reads, ``teacher`` the teacher's features, both
        for a batch of 2. Raises ValueError if the shapes cannot work."""
        return {}
