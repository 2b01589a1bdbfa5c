# CAKD in the release's form (configs/_base_/distillers/cakd_release.py) on
# the paper's main pair, ViT-B/16 -> ResNet-50, with the paper's ImageNet
# schedule of ./vit-b16_resnet50_in1k.py. mmengine forbids a key in two
# bases, so the preset's method options are repeated here;
# tests/test_models/test_imagenet_configs.py keeps them equal to the preset.
#   bash tools/dist_train.sh configs/cakd/cakd-release_vit-b16_resnet50_in1k.py 8
_base_ = './vit-b16_resnet50_in1k.py'

model = dict(
    projectors=dict(
        pca=dict(target='map', p=0.0),
        logit=dict(
            type='LogitProjector',
            loss=dict(type='LogitLoss', form='mse', loss_weight=1.0)),
        cls_token=dict(
            type='ClassTokenProjector',
            loss=dict(type='ClassTokenLoss', loss_weight=1.0))),
    mrt=dict(views=dict(teacher_view='same')),
    # w(epoch) = min(max(epoch - 25, 0) / 50, 0.2)
    ramp=dict(begin=25, end=75, max_weight=0.2, by_epoch=True),
)
