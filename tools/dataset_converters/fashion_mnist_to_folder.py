"""Write a small image folder from Fashion-MNIST, shaped like a user's own
data: ``train/<class>/*.png`` and ``val/<class>/*.png`` (mmpretrain's
``CustomDataset`` reads the class from the sub-folder) and a flat
``unlabelled/*.png``, for docs/own_data.md.

    python tools/dataset_converters/fashion_mnist_to_folder.py OUT
        [--train-per-class 60] [--val-per-class 20] [--unlabelled 1200]
        [--src data/fashion_mnist]

The images are drawn from Fashion-MNIST's test split with a fixed seed
(train, val and unlabelled never share an image), so that the committed
Fashion-MNIST teacher (trained on the training split) has never seen
them: it plays a teacher downloaded from a public dataset. Idempotent: an OUT that
already holds the same counts is left alone.
"""
import argparse
import os
import os.path as osp
import sys

import mmcv
import numpy as np

# CustomDataset numbers the classes in the sorted order of the folder
# names: the digit keeps Fashion-MNIST's order, the one the teacher knows.
CLASSES = ('0-t-shirt', '1-trouser', '2-pullover', '3-dress', '4-coat',
           '5-sandal', '6-shirt', '7-sneaker', '8-bag', '9-ankle-boot')


def read_idx(path: str) -> np.ndarray:
    with open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big')
            for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out')
    parser.add_argument('--src', default='data/fashion_mnist')
    parser.add_argument('--train-per-class', type=int, default=60)
    parser.add_argument('--val-per-class', type=int, default=20)
    parser.add_argument('--unlabelled', type=int, default=1200)
    args = parser.parse_args()
    images_file = osp.join(args.src, 't10k-images-idx3-ubyte')
    if not osp.isfile(images_file):
        print(f'error: {images_file} not found: run `make data` first',
              file=sys.stderr)
        return 1
    counts = dict(train=args.train_per_class * len(CLASSES),
                  val=args.val_per_class * len(CLASSES),
                  unlabelled=args.unlabelled)
    stamp = osp.join(args.out, 'counts.txt')
    if osp.isfile(stamp) and open(stamp).read() == repr(counts):
        print(f'{args.out} is ready ({counts})')
        return 0
    images = read_idx(images_file)
    labels = read_idx(osp.join(args.src, 't10k-labels-idx1-ubyte'))
    order = np.random.default_rng(0).permutation(len(labels))
    taken = np.zeros(len(labels), bool)
    for split, per_class in (('train', args.train_per_class),
                             ('val', args.val_per_class)):
        for c, name in enumerate(CLASSES):
            picks = [i for i in order if labels[i] == c and not taken[i]]
            for i in picks[:per_class]:
                taken[i] = True
                mmcv.imwrite(images[i],
                             osp.join(args.out, split, name, f'{i:05d}.png'))
    rest = [i for i in order if not taken[i]][:args.unlabelled]
    for i in rest:
        mmcv.imwrite(images[i], osp.join(args.out, 'unlabelled',
                                         f'{i:05d}.png'))
    os.makedirs(args.out, exist_ok=True)
    with open(stamp, 'w') as f:
        f.write(repr(counts))
    print(f'wrote {args.out}: {counts}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
