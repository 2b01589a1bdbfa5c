# A small ViT for 28x28 grey images: patch 4 -> 7x7 token grid + CLS token.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=128,
            num_layers=4,
            num_heads=4,
            feedforward_channels=256),
        img_size=28,
        patch_size=4,
        in_channels=1,
        drop_rate=0.0,
        drop_path_rate=0.1,
        out_type='cls_token',
        init_cfg=[
            dict(
                type='Kaiming',
                layer='Conv2d',
                mode='fan_in',
                nonlinearity='linear')
        ]),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=10,
        in_channels=128,
        # Plain CE: a label-smoothed teacher gives less informative logits to
        # distil from (Muller et al., 2019).
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ))
