# A tiny CIFAR-style ResNet for 28x28 grey images (about 44k parameters):
# 3x3 stem, no max-pool, three stages of two BasicBlocks, widths 8/16/32.
# Grids: layer1 28x28, layer2 14x14, layer3 7x7 (the ViT teacher's grid).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        num_stages=3,
        in_channels=1,
        stem_channels=8,
        base_channels=8,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
    ),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=32,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ))
