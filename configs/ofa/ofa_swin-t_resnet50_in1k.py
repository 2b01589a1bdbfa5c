# OFA-KD (Hao et al. 2023) on ImageNet-1k: Swin-T teacher (mmpretrain model
# zoo, 81.18 top-1) -> ResNet-50 from scratch, with the schedule of
# configs/cakd/swin-t_resnet50_in1k.py (the paper's: SGD lr 0.1, wd 1e-4,
# 120 epochs, steps at 30/60/90, 8 GPUs x 32 images); only the method
# differs.
# Exits on all four ResNet-50 stages and eps=1.5, as the release's
# command for a CNN student of a Transformer teacher on ImageNet.
#   bash tools/dist_train.sh configs/ofa/ofa_swin-t_resnet50_in1k.py 8
_base_ = [
    '../_base_/distillers/ofa.py',
    '../_base_/pairs/pair_swin-t_resnet50_in1k.py',
    '../_base_/schedules/imagenet_120e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    stages=[
        'backbone.layer1', 'backbone.layer2', 'backbone.layer3',
        'backbone.layer4'
    ],
    distill_loss=dict(eps=1.5),)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
