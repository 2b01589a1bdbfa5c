# CAKD in the release's form (configs/_base_/distillers/cakd_release.py) on
# the Fashion-MNIST pair: the same teacher, student, stage, data, schedule
# and optimizer as ./vit-tiny_resnet-tiny_fashion-mnist.py. The release's
# ramp is scaled from 120 to these 40 epochs: w(epoch) = min(max(epoch - 8,
# 0) / 17, 0.2), read per (0-based) epoch: 0 up to epoch 8, 0.18 at epoch
# 11, 0.2 from epoch 12 on.
_base_ = [
    '../_base_/distillers/cakd_release.py',
    '../_base_/pairs/pair_vit-tiny_resnet-tiny_fashion-mnist.py',
    '../_base_/schedules/fashion-mnist-10pct_40e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    student_stage='backbone.layer3',
    ramp=dict(begin=8, end=25, max_weight=0.2),
)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
param_scheduler = dict(discriminator=[])
