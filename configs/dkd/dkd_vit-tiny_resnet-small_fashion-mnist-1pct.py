# DKD in the unlabelled regime: the ViT teacher is consulted on all
# 55,000 training images, 1% of which have labels (CE on those only;
# configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py). Method
# options as in ./dkd_vit-tiny_resnet-tiny_fashion-mnist.py; the warm-up scaled
# to this schedule (mdistiller: the first 20 of 240 epochs, 1/12 of the
# schedule: here 108 of 1,290 iterations).
_base_ = [
    '../_base_/distillers/dkd.py',
    '../_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py',
]

model = dict(
    teacher='{{ fileDirname }}/../_base_/models/vit-tiny_fashion-mnist.py',
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student='{{ fileDirname }}/../_base_/models/resnet-small_fashion-mnist.py',
    ramp=dict(begin=0, end=108, by_epoch=False),
)
optim_wrapper = dict(
    student=dict(
        optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, nesterov=True,
            weight_decay=5e-4)))
