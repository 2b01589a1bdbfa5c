# CAKD + MRT in the unlabelled regime: ./vit-tiny_resnet-small_fashion-
# mnist-1pct.py with the paper's multi-view robust training (the preset's
# views, prob 0.5, the teacher sees the clean image; adversarial weight
# 0.05, the discriminator updated every 5 student steps).
_base_ = './vit-tiny_resnet-small_fashion-mnist-1pct.py'

model = dict(
    mrt=dict(
        _delete_=True,
        views=dict(prob=0.5),
        adv_weight=0.05,
        adv_form='non_saturating',
        d_interval=5))
