"""Write Fashion-MNIST where mmpretrain's ``FashionMNIST`` reads it.

Reads the four gzipped IDX files of Debian's ``dataset-fashion-mnist`` package
(``/usr/share/datasets/fashion-mnist``) and writes them un-gzipped to
``data/fashion_mnist/``. Idempotent: files already written and complete are
left alone; a partial file is never left behind (write, then rename).

    python tools/dataset_converters/prepare_fashion_mnist.py [--src DIR] [--out DIR]
"""
import argparse
import gzip
import os
import os.path as osp
import shutil
import sys

FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
# IDX header: 2 zero bytes, type, ndim, then ndim big-endian int32 sizes.
EXPECTED_ITEMS = {'train': 60000, 't10k': 10000}


def idx_is_complete(path: str) -> bool:
    """Whether ``path`` is an IDX file whose size matches its header."""
    with open(path, 'rb') as f:
        header = f.read(4)
        if len(header) < 4 or header[:2] != b'\x00\x00':
            return False
        dims = [int.from_bytes(f.read(4), 'big') for _ in range(header[3])]
    size = 4 + 4 * len(dims)
    count = 1
    for d in dims:
        count *= d
    prefix = osp.basename(path).split('-')[0]
    return (dims and dims[0] == EXPECTED_ITEMS[prefix]
            and osp.getsize(path) == size + count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', default='/usr/share/datasets/fashion-mnist')
    parser.add_argument('--out', default='data/fashion_mnist')
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    for name in FILES:
        dst = osp.join(args.out, name)
        if osp.isfile(dst) and idx_is_complete(dst):
            continue
        src = osp.join(args.src, name + '.gz')
        if not osp.isfile(src):
            print(f'error: {src} not found: install it with `apt-get install '
                  '-y dataset-fashion-mnist` (or pass --src DIR)',
                  file=sys.stderr)
            return 1
        tmp = dst + '.part'
        with gzip.open(src, 'rb') as fin, open(tmp, 'wb') as fout:
            shutil.copyfileobj(fin, fout)
        if not idx_is_complete(tmp):
            os.remove(tmp)
            print(f'error: {src} is not a complete Fashion-MNIST IDX file',
                  file=sys.stderr)
            return 1
        os.replace(tmp, dst)
        print(f'wrote {dst}')
    print(f'Fashion-MNIST ready in {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
