"""Strip a training checkpoint down to its weights for release.

    python tools/model_converters/publish_model.py IN.pth OUT.pth

Keeps ``state_dict`` and a small ``meta`` (epoch, iter, dataset classes, the
mmengine version); drops optimizer, scheduler and message-hub state. The
result is a plain tensor file that loads with ``torch.load(weights_only=True)``.
"""
import argparse
import os
import os.path as osp

import torch


def publish(src: str, dst: str) -> None:
    checkpoint = torch.load(src, map_location='cpu', weights_only=True)
    if 'state_dict' not in checkpoint:
        raise KeyError(f'{src}: no `state_dict`; expected a checkpoint '
                       'written by tools/train.py')
    meta = checkpoint.get('meta', {})
    out = dict(
        state_dict={k: v.cpu()
                    for k, v in checkpoint['state_dict'].items()},
        meta={
            k: meta[k]
            for k in ('epoch', 'iter', 'dataset_meta', 'mmengine_version')
            if k in meta
        })
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.part'
    torch.save(out, tmp)
    os.replace(tmp, dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint written by tools/train.py')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args()
    publish(args.src, args.dst)
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
