"""Bad configs and checkpoints fail while the model is built, in one line."""

import pytest
import torch

from mmcakd.registry import MODELS

from .tiny import distiller, resnet, vit


def one_line_error(exc_type, match, **kwargs):
    with pytest.raises(exc_type, match=match) as err:
        distiller(**kwargs)
    assert '\n' not in str(err.value)
    return str(err.value)


def test_student_stage_that_names_no_module_lists_closest():
    msg = one_line_error(ValueError, 'student_stage', stage='backbone.layr3')
    assert 'backbone.layer3' in msg


def test_student_stage_that_is_not_a_feature_map():
    one_line_error(ValueError, 'student_stage', stage='head.fc')


def test_unsupported_teacher_names_supported_types():
    msg = one_line_error(TypeError, 'not supported', teacher=resnet())
    assert 'VisionTransformer' in msg and 'SwinTransformer' in msg


@pytest.mark.parametrize('kwargs,field', [
    (dict(pca=dict(p=1.5)), r'projectors\.pca\.p'),
    (dict(pca=dict(p=-0.1)), r'projectors\.pca\.p'),
    (dict(mrt=dict(d_interval=0)), 'd_interval'),
    (dict(mrt=dict(d_interval=2.5)), 'd_interval'),
    (dict(gl=dict(loss=dict(loss_weight=-1))),
     r'projectors\.gl\.loss\.loss_weight'),
    (dict(pca=dict(loss=dict(attn_weight=-0.2))),
     r'projectors\.pca\.loss\.attn_weight'),
    (dict(mrt=dict(adv_weight=-1)), r'mrt\.adv_weight'),
    (dict(mrt=dict(adv_form='wasserstein')), r'mrt\.adv_form'),
    (dict(mrt=dict(views=dict(prob=2))), r'mrt\.views\.prob'),
    (dict(mrt=dict(views=dict(transforms=[dict(type='Blur')]))), 'Blur'),
    (dict(gl=None), 'mrt needs a projector that gives tokens'),
    (dict(pca=dict(p=0.5, q=1)),
     r"projectors\.pca: unknown option\(s\) \['q'\]"),
    (dict(pca=dict(type='PCAProjektor')), 'not a registered projector'),
    (dict(pca=dict(loss=dict(type='PCALos'))),
     r'projectors\.pca\.loss\.type'),
    (dict(pca=dict(in_channels=3)), 'read from the models'),
    (dict(projectors=dict(pca=None, gl=None), mrt=None), 'at least one'),
    (dict(projectors=dict(teacher=dict(type='GLProjector'))),
     'taken by the distiller'),
    # A name that would replace CE's log entry, D's, or another projector's
    # loss module.
    (dict(projectors=dict(cls=dict(type='GLProjector'))), 'is taken'),
    (dict(projectors=dict(disc=dict(type='GLProjector'))), 'is taken'),
    (dict(projectors=dict(gl=dict(type='GLProjector'),
                          gl_loss=dict(type='GLProjector'))), 'is taken'),
    (dict(projectors=dict(reader=dict(type='GLProjector'))), 'is taken'),
    (dict(projectors={'a.b': dict(type='GLProjector')}), 'identifier'),
    (dict(gl=dict(loss=dict(weight=1))),
     r"projectors\.gl\.loss: unknown option\(s\) \['weight'\]"),
    (dict(logit=dict(scale=2)), r"unknown option\(s\) \['scale'\]; "
     r'LogitProjector takes \[\]'),
    (dict(ramp=dict(begin=5, end=2)), 'ramp'),
])
def test_bad_option_names_its_field(kwargs, field):
    one_line_error(ValueError, field, **kwargs)


@pytest.fixture
def teacher_ckpt(tmp_path):
    teacher = MODELS.build(vit())
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict()}, path)
    return path, teacher


def test_teacher_checkpoint_is_loaded(teacher_ckpt):
    path, teacher = teacher_ckpt
    model = distiller(teacher_ckpt=str(path))
    for k, v in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[k], v)


def test_missing_teacher_checkpoint(tmp_path):
    msg = one_line_error(FileNotFoundError, 'teacher_ckpt',
                         teacher_ckpt=str(tmp_path / 'nope.pth'))
    assert 'nope.pth' in msg


def test_truncated_teacher_checkpoint(teacher_ckpt, tmp_path):
    path, _ = teacher_ckpt
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(path.read_bytes()[:2000])
    one_line_error(ValueError, 'truncated or corrupt', teacher_ckpt=str(cut))


def test_teacher_checkpoint_of_another_architecture(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save(MODELS.build(resnet()).state_dict(), path)
    one_line_error(ValueError, 'does not fit', teacher_ckpt=str(path))


def test_teacher_checkpoint_with_mismatched_shapes(tmp_path):
    path = tmp_path / 'wide.pth'
    torch.save(MODELS.build(vit(dims=48, heads=2)).state_dict(), path)
    msg = one_line_error(ValueError, 'shape mismatch', teacher_ckpt=str(path))
    assert 'in file' in msg


class Payload:
    """Unpickling this would create a file: the safe loader must refuse."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_teacher_checkpoint_that_would_run_code(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        torch.save({'state_dict': {}, 'x': Payload(str(marker))}, f)
    assert not marker.exists()
    one_line_error(ValueError, 'safe loader', teacher_ckpt=str(path))
    assert not marker.exists()
