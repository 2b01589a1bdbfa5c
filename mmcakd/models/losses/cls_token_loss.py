"""CAKD's class-token term, as the authors' release trains it."""
from mmcakd.registry import MODELS
from .gl_loss import GLLoss


@MODELS.register_module()
class ClassTokenLoss(GLLoss):
    """loss_weight * MSE(W f_S + b, c_T), both (B, C_T).

    f_S is the student's pooled feature (its head's input), W f_S + b its
    :class:`ClassTokenProjector`, c_T the teacher's class token after the
    final norm (or, for a teacher without one, its pooled pre-logit
    feature). The release: ``nn.MSELoss()(proj(student_pooled),
    teacher_cls)`` at weight 1, under the ramp's w(t).

    Args:
        loss_weight (float): The term's weight (release: 1).
    """
