# The tiny CIFAR-style ResNet of ./resnet-tiny_gray.py at twice the
# width (widths 8/16/32, 44k parameters): the student of the unlabelled
# regime, where it is far below the teacher with 1% of the labels (79.1%
# val alone against the teacher's 89.2%) and gains most from it.
# Grids: layer1 28x28, layer2 14x14, layer3 7x7 (the ViT teacher's grid).
_base_ = './resnet-tiny_gray.py'

model = dict(
    backbone=dict(stem_channels=8, base_channels=8),
    head=dict(in_channels=32))
