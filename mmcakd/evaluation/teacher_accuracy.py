"""Top-k accuracy of the distiller's teacher, logged as ``teacher/...``."""
from typing import Sequence

from mmpretrain.evaluation import Accuracy

from mmcakd.registry import METRICS


@METRICS.register_module()
class TeacherAccuracy(Accuracy):
    """:class:`mmpretrain.evaluation.Accuracy` on ``teacher_pred_score``.

    A distiller with ``eval_teacher=True`` writes the teacher's scores into
    every data sample; this metric reports them as ``teacher/accuracy/top1``
    beside the student's ``accuracy/top1``.
    """

    default_prefix = 'teacher/accuracy'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'teacher_pred_score' not in sample:
                raise KeyError('TeacherAccuracy needs the distiller to run '
                               'with eval_teacher=True')
            self.results.append(
                dict(pred_score=sample['teacher_pred_score'].cpu(),
                     gt_label=sample['gt_label'].cpu()))
