# FitNet-style hint (Romero et al. 2015) on Fashion-MNIST: the ViT teacher
# (7x7 tokens, 128-d) teaches the tiny ResNet student on the 10% subset
# (5,500 images). Teacher, student, optimizer, data and schedule are those
# of every method on this pair; only the method part differs.
# The hint is taken where CAKD taps: layer3 (7x7, the teacher's grid).
_base_ = [
    '../_base_/distillers/fitnet.py',
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
