# OFA-KD (Hao et al. 2023) on Fashion-MNIST: the ViT teacher (7x7 tokens,
# 128-d) teaches the tiny ResNet student on the 10% subset (5,500 images).
# Teacher, student, optimizer, data and schedule are those of every method
# on this pair; only the method part differs.
# Exits on all three stages of the tiny ResNet (the release uses every
# stage); the release's eps=1.
_base_ = [
    '../_base_/distillers/ofa.py',
    '../_base_/pairs/pair_vit-tiny_resnet-tiny_fashion-mnist.py',
    '../_base_/schedules/fashion-mnist-10pct_40e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    stages=['backbone.layer1', 'backbone.layer2', 'backbone.layer3'],
)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
