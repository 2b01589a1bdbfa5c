# CAKD in the release's form (configs/_base_/distillers/cakd_release.py) on
# the paper's main pair, ViT-B/16 -> ResNet-50, with the paper's ImageNet
# schedule; only the method differs from ./vit-b16_resnet50_in1k.py.
#   bash tools/dist_train.sh configs/cakd/cakd-release_vit-b16_resnet50_in1k.py 8
_base_ = [
    '../_base_/distillers/cakd_release.py',
    '../_base_/pairs/pair_vit-b16_resnet50_in1k.py',
    '../_base_/schedules/imagenet_120e.py',
]

model = dict(
    teacher={{_base_.pair.teacher}},
    teacher_ckpt={{_base_.pair.teacher_ckpt}},
    student={{_base_.pair.student}},
    student_stage='backbone.layer3')
optim_wrapper = dict(student=dict(optimizer={{_base_.student_optimizer}}))
