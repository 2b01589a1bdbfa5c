# Your own image folder (docs/own_data.md): data/own/{train,val}/<class>/
# *.png for mmpretrain's CustomDataset (the class is the sub-folder) and
# a flat data/own/unlabelled/ for images without labels.
data_root = 'data/own'
# The folder's class count (the sub-folders of train/): both models' heads
# take it.
num_classes = 10
# The teacher's input size (H, W): every image is resized to it, whatever
# its own size (the teacher's token grid is img_size / patch size).
img_size = (28, 28)

# One data preprocessor for teacher and student: the normalisation the
# teacher was trained with (here the Fashion-MNIST teacher's; a timm
# teacher's is its pretrained_cfg mean and std, times 255).
data_preprocessor = dict(
    num_classes=num_classes, mean=[72.94], std=[90.02], to_rgb=False)
# Grayscale PNGs, one channel as the teacher takes them (drop color_type
# for RGB images and a 3-channel teacher).
load = dict(type='LoadImageFromFile', color_type='grayscale')
resize = dict(type='Resize', scale=img_size[::-1])  # mmcv's scale: (W, H)
train_pipeline = [
    load,
    resize,
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [load, resize, dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='train', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=100,
    num_workers=1,
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='val', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
