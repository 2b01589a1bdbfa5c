"""Pictures of what CAKD transfers, for one image.

    python tools/visualization/vis_attention.py CONFIG CKPT IMAGE --out DIR
        [--query ROW COL] [--cfg-options k=v ...]

For a distiller config and checkpoint it writes into DIR:
  - attention.png: for one query token (default: the grid centre), the
    teacher's attention softmax(Q_T K_T^T / sqrt(d)) (mean over heads, then
    each head) beside the student's PCA attention softmax(Q_S K_S^T /
    sqrt(d)) (Eq. 2, no substitution), overlaid on the image;
  - similarity.png: the per-token cosine similarity between the teacher's
    tokens h_T and the GL-projected student tokens h'_S, overlaid.
"""
import argparse
import os
import os.path as osp
import sys

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.runner import load_checkpoint

from mmcakd.models.projectors import GLProjector, PCAProjector
from mmcakd.models.utils import align_to_grid
from mmcakd.registry import MODELS
from mmcakd.utils import model_config, register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--query', type=int, nargs=2, metavar=('ROW', 'COL'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def attention_maps(q: torch.Tensor, k: torch.Tensor,
                   query: int) -> torch.Tensor:
    """Row ``query`` of softmax(QK^T / sqrt(d)): (heads, N) for batch 0."""
    scores = q[0] @ k[0].transpose(-2, -1) / q.shape[-1]**0.5
    return scores.softmax(-1)[:, query]


def overlay(ax, image: np.ndarray, values: np.ndarray, title: str,
            cmap: str = 'jet', vmin=None, vmax=None) -> None:
    h, w = image.shape[:2]
    heat = F.interpolate(
        torch.as_tensor(values)[None, None].float(), size=(h, w),
        mode='nearest')[0, 0].numpy()
    ax.imshow(image, cmap='gray' if image.ndim == 2 else None)
    ax.imshow(heat, cmap=cmap, alpha=0.5, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=8)
    ax.axis('off')


def main() -> int:
    args = parse_args()
    register_all_modules()
    image = mmcv.imread(args.image, flag='unchanged') \
        if osp.isfile(args.image) else None
    if image is None:
        print(f'error: {args.image}: not a readable image file (expected a '
              'PNG/JPEG image)', file=sys.stderr)
        return 1
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if 'teacher' not in cfg.model:
        print(f'error: {args.config}: not a distiller config (its model has '
              'no teacher attention to show)', file=sys.stderr)
        return 1
    try:
        model = MODELS.build(model_config(cfg))
    except (TypeError, ValueError) as e:
        print(f'error: {args.config}: {e}', file=sys.stderr)
        return 1
    # The projectors shown, by their class (a config names them freely).
    pca = next((m for m in model.children() if isinstance(m, PCAProjector)),
               None)
    gl = next((m for m in model.children() if isinstance(m, GLProjector)),
              None)
    if pca is None or gl is None:
        print(f'error: {args.config}: needs a PCAProjector and a '
              'GLProjector among model.projectors', file=sys.stderr)
        return 1
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()

    # The image at the teacher's input size, in the model's channel layout.
    channels, h, w = model.resolve_input_size(cfg.model.get('input_size'))
    if channels == 1 and image.ndim == 3:
        image = mmcv.bgr2gray(image)
    elif channels == 3 and image.ndim == 2:
        image = mmcv.gray2bgr(image)
    image = mmcv.imresize(image, (w, h))
    tensor = torch.from_numpy(np.ascontiguousarray(
        image if image.ndim == 3 else image[..., None])).permute(2, 0, 1)
    inputs = model.data_preprocessor(dict(inputs=[tensor]), False)['inputs']

    with torch.no_grad():
        t = model.reader(inputs)
        model.student(inputs, mode='tensor')
        feat = align_to_grid(model.student_tap.pop(), t.grid)
        q_s, k_s, _ = pca.project(feat)
        h_s = gl(feat)
    gh, gw = t.grid
    row, col = args.query or (gh // 2, gw // 2)
    if not (0 <= row < gh and 0 <= col < gw):
        print(f'error: --query {row} {col} is outside the {gh}x{gw} grid',
              file=sys.stderr)
        return 1
    query = row * gw + col
    teacher_attn = attention_maps(t.q, t.k, query).view(-1, gh, gw)
    student_attn = attention_maps(q_s, k_s, query).view(-1, gh, gw)
    similarity = F.cosine_similarity(h_s[0], t.tokens[0], dim=-1)

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    show = image if image.ndim == 2 else mmcv.bgr2rgb(image)
    os.makedirs(args.out, exist_ok=True)
    heads = teacher_attn.shape[0]
    fig, axes = plt.subplots(2, heads + 1, figsize=(2 * (heads + 1), 4.4))
    for r, (name, attn) in enumerate((('teacher', teacher_attn),
                                      ('student PCA', student_attn))):
        overlay(axes[r, 0], show, attn.mean(0).numpy(),
                f'{name}: mean of heads')
        for i in range(heads):
            overlay(axes[r, i + 1], show, attn[i].numpy(),
                    f'{name}: head {i}')
    fig.suptitle(f'attention of query token ({row}, {col}) on the '
                 f'{gh}x{gw} grid', fontsize=9)
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'attention.png'), dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(3.2, 3.4))
    overlay(ax, show, similarity.view(gh, gw).numpy(),
            f'cos(h_T, GL(h_S)), mean {similarity.mean():.2f}',
            cmap='RdYlGn', vmin=-1, vmax=1)
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'similarity.png'), dpi=120)
    plt.close(fig)
    print(f'wrote {args.out}/attention.png and similarity.png')
    return 0


if __name__ == '__main__':
    sys.exit(main())
