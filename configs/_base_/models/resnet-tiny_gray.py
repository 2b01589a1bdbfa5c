# A tiny CIFAR-style ResNet for 28x28 grey images (11k parameters): 3x3 stem,
# no max-pool, three stages of two BasicBlocks, widths 4/8/16. Sized so that,
# trained on the 10% subset, it is clearly weaker than the ViT teacher (83.3%
# against 89.2% on the validation split); widths 8/16/32 (44k) reached 88.0%,
# too close to the teacher for distillation to show anything.
# Grids: layer1 28x28, layer2 14x14, layer3 7x7 (the ViT teacher's grid).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        num_stages=3,
        in_channels=1,
        stem_channels=4,
        base_channels=4,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
    ),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=16,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ))
