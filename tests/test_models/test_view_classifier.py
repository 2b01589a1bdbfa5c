"""The augmentation control: the student alone trained on MRT's views."""
import torch

from mmcakd.registry import MODELS

from .tiny import batch, resnet


def build(prob=1.0):
    return MODELS.build(dict(
        type='ViewAugmentedClassifier', student=resnet(),
        views=dict(prob=prob),
        data_preprocessor=dict(num_classes=5, mean=[0.0], std=[1.0])))


def test_loss_is_the_students_on_the_views():
    model = build().train()
    data = model.data_preprocessor(batch(n=8), True)
    state = model.views.random.get_extra_state()
    loss = model(**data, mode='loss')
    assert set(loss) == {'loss_cls'}
    model.views.random.set_extra_state(state)
    views = model.views(data['inputs'])[0]
    assert not torch.equal(views, data['inputs'])
    with torch.no_grad():
        expected = model.student(views, data['data_samples'],
                                 mode='loss')['loss']
    torch.testing.assert_close(loss['loss_cls'].detach(), expected)


def test_prediction_sees_clean_images_and_weights_are_the_students():
    model = build().eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        torch.testing.assert_close(
            model(data['inputs'], mode='tensor'),
            model.student(data['inputs'], mode='tensor'))
    keys = set(model.state_dict())
    assert all(k.startswith(('student.', 'views.')) for k in keys)
    # The views' random stream travels with the checkpoint (exact resume).
    assert 'views.random._extra_state' in keys


def test_no_views_is_the_student_alone():
    model = build(prob=0.0).train()
    data = model.data_preprocessor(batch(), True)
    with torch.no_grad():
        loss = model(**data, mode='loss')['loss_cls']
        expected = model.student(**data, mode='loss')['loss']
    torch.testing.assert_close(loss, expected)
