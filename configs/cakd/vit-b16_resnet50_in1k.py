# CAKD on ImageNet-1k, the paper's main pair: ViT-B/16 teacher (mmpretrain
# model zoo, 82.37 top-1) -> ResNet-50 from scratch. ViT-B/16 has a 14x14
# token grid at 224 px, so the student's layer3 (14x14, 1024 channels) is
# distilled: 16 GL groups of 4x4.
_base_ = './swin-t_resnet50_in1k.py'

model = dict(
    teacher='mmpretrain::vision_transformer/vit-base-p16_32xb128-mae_in1k.py',
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/vit/'
    'vit-base-p16_pt-32xb128-mae_in1k_20220623-4c544545.pth',
    student_stage='backbone.layer3',
)
