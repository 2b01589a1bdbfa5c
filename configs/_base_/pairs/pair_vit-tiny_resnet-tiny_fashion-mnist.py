# The committed ViT teacher (tools/train.py configs/teachers/...) -> the
# 11k-parameter ResNet of the 10%-labels benchmark (used as in
# ./swin-t_resnet50_in1k.py).
pair = dict(
    teacher='{{ fileDirname }}/../models/vit-tiny-p4_gray.py',
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student='{{ fileDirname }}/../models/resnet-tiny_gray.py')
