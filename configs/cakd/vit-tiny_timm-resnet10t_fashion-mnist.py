# Plugging in a timm CNN: the same CAKD recipe with timm's resnet10t as the
# student, through mmpretrain's TIMMBackbone. At 28 px its layer2 is a 4x4
# map (128 channels), upsampled to the teacher's 7x7 grid.
_base_ = './vit-tiny_resnet-tiny_fashion-mnist.py'

model = dict(
    student=dict(
        _delete_=True,
        type='ImageClassifier',
        backbone=dict(
            type='TIMMBackbone',
            model_name='resnet10t',
            pretrained=False,
            in_channels=1),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512)),
    student_stage='backbone.timm_model.layer2',
)
