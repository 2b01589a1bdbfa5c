# DKD in the unlabelled regime: the ViT teacher is consulted on all
# 55,000 training images, 1% of which have labels (CE on those only;
# configs/_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py). Method
# options as in ./dkd_vit-tiny_resnet-tiny_fashion-mnist.py; the warm-up scaled
# to this schedule (mdistiller: the first 20 of 240 epochs, 1/12 of the
# schedule: here 108 of 1,290 iterations).
_base_ = [
    '../_base_/distillers/dkd.py',
    '../_base_/pairs/pair_vit-tiny_resnet-small_fashion-mnist.py',
    '../_base_/schedules/fashion-mnist-1pct-unlabelled_3e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    ramp=dict(begin=0, end=108, by_epoch=False),
)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
