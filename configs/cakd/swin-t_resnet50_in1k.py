# CAKD on ImageNet-1k: Swin-T teacher (mmpretrain model zoo, 81.18 top-1)
# -> ResNet-50 from scratch. ResNet-50's layer4 is 7x7 at 224 px, the grid of
# Swin-T's last stage. The paper's schedule (../_base_/schedules/
# imagenet_120e.py): SGD lr 0.1, wd 1e-4, 120 epochs, steps at 30/60/90,
# 8 GPUs x 32 images.
#   bash tools/dist_train.sh configs/cakd/swin-t_resnet50_in1k.py 8
_base_ = [
    '../_base_/distillers/cakd.py',
    '../_base_/pairs/pair_swin-t_resnet50_in1k.py',
    '../_base_/schedules/imagenet_120e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    student_stage='backbone.layer4',
    # The release's warm-up: no distillation for 25 epochs, full at 35.
    ramp=dict(begin=25, end=35, by_epoch=True),)
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
