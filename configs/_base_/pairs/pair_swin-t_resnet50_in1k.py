# Swin-T (mmpretrain model zoo, 81.18 top-1) -> ResNet-50 from scratch on
# ImageNet-1k. A method config takes the three entries into its model:
#   model = dict(teacher={{_base_.pair.teacher}},
#                teacher_ckpt={{_base_.pair.teacher_ckpt}},
#                student={{_base_.pair.student}})
# (mmengine forbids `model` in two bases, so a pair is a variable.)
pair = dict(
    teacher='mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py',
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/'
    'swin-transformer/swin_tiny_224_b16x64_300e_imagenet_20210616_090925'
    '-66df6be6.pth',
    student='mmpretrain::resnet/resnet50_8xb32_in1k.py')
