# Fashion-MNIST (28x28 grey, 10 classes) from Debian's dataset-fashion-mnist,
# prepared by tools/dataset_converters/prepare_fashion_mnist.py.
# Three honest splits: train (official train minus val), val (500 train images
# per class, held apart for model selection) and the official 10k test set.
dataset_type = 'FashionMNISTSplit'
data_root = 'data/fashion_mnist'
split_seed = 0

data_preprocessor = dict(
    num_classes=10,
    # Fashion-MNIST's pixel statistics (0.2860 and 0.3530 of 255).
    mean=[72.94],
    std=[90.02],
    to_rgb=False)

train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        fraction=1.0,
        seed=split_seed,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=500,
    num_workers=1,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        seed=split_seed,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = dict(
    batch_size=500,
    num_workers=1,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_evaluator = val_evaluator
