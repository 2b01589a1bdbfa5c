# DKD (Zhao et al. 2022) on Fashion-MNIST: the ViT teacher (7x7 tokens,
# 128-d) teaches the tiny ResNet student on the 10% subset (5,500 images).
# Teacher, student, optimizer, data and schedule are those of every method
# on this pair; only the method part differs.
# DKD's warm-up scaled to this schedule (mdistiller: 20 of 240 epochs).
_base_ = [
    '../_base_/distillers/dkd.py',
    '../_base_/pairs/pair_vit-tiny_resnet-tiny_fashion-mnist.py',
    '../_base_/schedules/fashion-mnist-10pct_40e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    ramp=dict(begin=0, end=3, by_epoch=True),
)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
