"""A classifier trained on the multi-view generator's views, no teacher."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from mmcakd.registry import MODELS


@MODELS.register_module()
class ViewAugmentedClassifier(BaseModel):
    """The student alone, trained on MRT's views as plain augmentation.

    The control that says what the views buy without any distillation:
    the same :class:`MultiViewGenerator` (same transforms, strengths and
    ``prob``) perturbs each training batch, and the student's own loss is
    computed on the views. Validation and test see clean images. The
    student's weights are ``student.*``, so
    ``tools/model_converters/extract_student.py`` writes a plain
    mmpretrain checkpoint from it like from a distiller.

    Args:
        student (dict | str): The classifier config (or config path).
        views (dict): MultiViewGenerator kwargs (``teacher_view`` has no
            teacher to act on and is ignored).
        data_preprocessor (dict, optional): Default ``ClsDataPreprocessor``.
    """

    def __init__(self,
                 student: Union[dict, str],
                 views: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        # Imported here, not at the top: mmcakd.models imports this package
        # and the distillers; a top-level import would make a cycle.
        from mmcakd.models.distillers.base import build_classifier
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.student = build_classifier(student, 'student')
        self.views = MODELS.build(
            dict(type='MultiViewGenerator', **dict(views or {})))

    def init_weights(self) -> None:
        self.student.init_weights()

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], List,
                                               torch.Tensor]:
        """``'loss'``: the student's loss on the views, as ``loss_cls``;
        ``'predict'`` / ``'tensor'``: the student on the clean inputs."""
        if mode == 'loss':
            views = self.views(inputs)[0]
            return {('loss_cls' if k == 'loss' else k): v
                    for k, v in self.student(views, data_samples,
                                             mode='loss').items()}
        if mode in ('predict', 'tensor'):
            return self.student(inputs, data_samples, mode=mode)
        raise RuntimeError(f'Invalid mode "{mode}".')
