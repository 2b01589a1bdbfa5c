# CAKD on ImageNet-1k: Swin-T teacher -> MobileNetV2 from scratch. The last
# inverted-residual stage (backbone.layer7, 320 channels) is 7x7 at 224 px,
# Swin-T's grid. Schedule as the paper's ResNet students.
_base_ = './swin-t_resnet50_in1k.py'

model = dict(
    student='mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
    student_stage='backbone.layer7',
)
