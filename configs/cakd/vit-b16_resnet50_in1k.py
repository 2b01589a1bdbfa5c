# CAKD on ImageNet-1k, the paper's main pair: ViT-B/16 teacher (mmpretrain
# model zoo, 82.37 top-1) -> ResNet-50 from scratch. ViT-B/16 has a 14x14
# token grid at 224 px, so the student's layer3 (14x14, 1024 channels) is
# distilled: 16 GL groups of 4x4. Method and schedule as in
# ./swin-t_resnet50_in1k.py.
_base_ = [
    '../_base_/distillers/cakd.py',
    '../_base_/pairs/pair_vit-b16_resnet50_in1k.py',
    '../_base_/schedules/imagenet_120e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    student_stage='backbone.layer3',
    # The release's warm-up: no distillation for 25 epochs, full at 35.
    ramp=dict(begin=25, end=35, by_epoch=True))
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
