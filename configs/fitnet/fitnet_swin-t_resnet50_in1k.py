# FitNet-style hint (Romero et al. 2015) on ImageNet-1k: Swin-T teacher
# (mmpretrain model zoo, 81.18 top-1) -> ResNet-50 from scratch, with the
# schedule of configs/cakd/swin-t_resnet50_in1k.py (the paper's: SGD lr 0.1,
# wd 1e-4, 120 epochs, steps at 30/60/90, 8 GPUs x 32 images); only the
# method differs.
# The hint is taken where CAKD taps: layer4 (7x7, Swin-T's last grid).
#   bash tools/dist_train.sh configs/fitnet/fitnet_swin-t_resnet50_in1k.py 8
_base_ = [
    '../_base_/distillers/fitnet.py',
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    '../_base_/default_runtime.py',
]

model = dict(
    teacher='mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py',
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/'
    'swin-transformer/swin_tiny_224_b16x64_300e_imagenet_20210616_090925'
    '-66df6be6.pth',
    student='mmpretrain::resnet/resnet50_8xb32_in1k.py',
    student_stage='backbone.layer4',
)

optim_wrapper = dict(
    student=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)))
param_scheduler = dict(
    student=dict(
        type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90],
        gamma=0.1))
train_cfg = dict(max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# 8 GPUs x 32 images; --auto-scale-lr rescales lr for another total batch.
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(logger=dict(interval=100))
