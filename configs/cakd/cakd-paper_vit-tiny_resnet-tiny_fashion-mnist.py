# CAKD in the paper's form (configs/_base_/distillers/cakd.py: PCA, GL and
# MRT with the release's loss weights, no logit term) on Fashion-MNIST: the
# ViT teacher (7x7 tokens, 128-d, 4 heads) teaches the tiny ResNet student on
# the 10% subset (5,500 images); the student's layer3 (7x7, 16 channels) is
# distilled. Teacher, student, optimizer, data and schedule are those of
# every method on this pair (and the schedule that of the student alone).
# The benchmark's "CAKD, paper form" row and its ablations.
_base_ = [
    '../_base_/distillers/cakd.py',
    '../_base_/pairs/pair_vit-tiny_resnet-tiny_fashion-mnist.py',
    '../_base_/schedules/fashion-mnist-10pct_40e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    student_stage='backbone.layer3',
)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
# The discriminator keeps a constant lr (the schedule's cosine is keyed to
# the student's optimizer only).
param_scheduler = dict(discriminator=[])
