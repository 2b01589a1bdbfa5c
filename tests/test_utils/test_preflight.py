"""Checks of mmcakd.utils.preflight that need no training run."""
import pytest
from mmengine.config import Config

from mmcakd.utils.preflight import check_teacher_weights

TEACHER = dict(type='TimmClassifier', model_name='vit_tiny_patch16_224')


@pytest.mark.parametrize('model,extra,refused', [
    (dict(teacher='t.py', teacher_ckpt=None), {}, True),
    (dict(teacher='t.py'), {}, True),
    (dict(teacher='t.py', teacher_ckpt='t.pth'), {}, False),
    # Said explicitly: a random teacher (the tests' tiny models).
    (dict(teacher='t.py', teacher_ckpt=None), dict(allow_random_teacher=True),
     False),
    # A timm teacher that fetches its own weights.
    (dict(teacher=dict(TEACHER, pretrained=True)), {}, False),
    (dict(teacher=dict(TEACHER, pretrained=False)), {}, True),
    # No teacher: nothing to check.
    (dict(type='ImageClassifier'), {}, False),
], ids=['ckpt-none', 'ckpt-absent', 'ckpt', 'allowed', 'timm-pretrained',
        'timm-random', 'no-teacher'])
def test_a_teacher_without_weights_is_refused_unless_allowed(model, extra,
                                                             refused):
    cfg = Config(dict(model=model, **extra))
    if refused:
        with pytest.raises(ValueError, match='allow_random_teacher = True'):
            check_teacher_weights(cfg)
    else:
        check_teacher_weights(cfg)
