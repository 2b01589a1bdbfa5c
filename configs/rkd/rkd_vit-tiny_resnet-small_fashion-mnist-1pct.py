# RKD in the unlabelled regime: the ViT teacher is consulted on all
# 55,000 training images, 1% of which have labels (CE on those only;
# configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py). Method
# options as in ./rkd_vit-tiny_resnet-tiny_fashion-mnist.py.
_base_ = [
    '../_base_/distillers/rkd.py',
    '../_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py',
]

model = dict(
    teacher='{{ fileDirname }}/../_base_/models/vit-tiny_fashion-mnist.py',
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student='{{ fileDirname }}/../_base_/models/resnet-small_fashion-mnist.py',
)
optim_wrapper = dict(
    student=dict(
        optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, nesterov=True,
            weight_decay=5e-4)))
