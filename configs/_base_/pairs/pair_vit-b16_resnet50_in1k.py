# The paper's main pair: ViT-B/16 (mmpretrain model zoo, 82.37 top-1) ->
# ResNet-50 from scratch on ImageNet-1k (used as in
# ./pair_swin-t_resnet50_in1k.py).
pair = dict(
    teacher='mmpretrain::vision_transformer/vit-base-p16_32xb128-mae_in1k.py',
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/vit/'
    'vit-base-p16_pt-32xb128-mae_in1k_20220623-4c544545.pth',
    student='mmpretrain::resnet/resnet50_8xb32_in1k.py')
