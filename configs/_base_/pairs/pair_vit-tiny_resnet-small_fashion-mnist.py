# The committed ViT teacher -> the 44k-parameter ResNet of the
# unlabelled-images benchmark (used as in ./pair_swin-t_resnet50_in1k.py).
pair = dict(
    teacher='{{ fileDirname }}/../models/vit-tiny-p4_gray.py',
    teacher_ckpt='checkpoints/vit-tiny_fashion-mnist.pth',
    student='{{ fileDirname }}/../models/resnet-small_gray.py')
