"""Time fp32 linear layers: torch's F.linear against oneDNN, side by side.

    python tools/cpu_bench/benchmark_linear.py
        [--shapes ROWS,C_IN,C_OUT ...] [--rounds 20] [--threads 2]

For each shape, on this machine's CPU, it prints the median time and
GFLOP/s of ``F.linear`` (MKL's sgemm on CPU) and of
:func:`mmcakd.cpu.onednn_linear.linear_onednn` (the same product
as a oneDNN 1x1 convolution, ``accel.onednn_linear``), and oneDNN / F.linear,
for a forward under inference mode and a forward and backward (input and
weight gradients). The two alternate within each round. Freed memory is
kept in the process, as ``accel.keep_cpu_memory`` does on CPU. The default
shapes are the CAKD discriminator's on Fashion-MNIST (128 x 49 tokens, its
update step twice that), the ViT teacher's qkv there, the discriminator's
on Swin-T -> ResNet-50 (8 x 49 tokens of 768), ResNet-50's classifier at
batch 8, and a large square product.
"""
from functools import partial

import torch
import torch.nn.functional as F

from mmcakd.cpu.microbench import median_ms, parse_microbench_args
from mmcakd.cpu.onednn_linear import linear_onednn

KERNELS = {'F.linear': F.linear, 'oneDNN': linear_onednn}
SHAPES = ('6272,128,128', '12544,128,128', '6400,128,384', '392,768,768',
          '8,2048,1000', '8192,1024,1024')
SETTINGS = ('fwd', 'fwd+bwd')


def step(kernel, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
         setting: str) -> None:
    """One call of ``kernel`` in ``setting``."""
    if setting == 'fwd':
        with torch.inference_mode():
            kernel(x, weight, bias)
        return
    x = x.detach().requires_grad_()
    weight.grad = bias.grad = None
    kernel(x, weight, bias).sum().backward()


def main() -> None:
    args = parse_microbench_args(__doc__.split('\n')[0], SHAPES,
                                 'ROWS,C_IN,C_OUT')
    print(f'{args.threads} threads, median of {args.rounds} rounds, fp32')
    for shape in args.shapes:
        rows, c_in, c_out = (int(s) for s in shape.split(','))
        x = torch.randn(rows, c_in)
        weight = torch.randn(c_out, c_in, requires_grad=True)
        bias = torch.randn(c_out, requires_grad=True)
        for setting in SETTINGS:
            flop = 2 * rows * c_in * c_out * (1 if setting == 'fwd' else 3)
            ms = median_ms({name: partial(step, kernel, x, weight, bias,
                                          setting)
                            for name, kernel in KERNELS.items()}, args.rounds)
            cells = '  '.join(f'{name} {t:8.3f} ms {flop / t / 1e6:6.0f} '
                              'GFLOP/s' for name, t in ms.items())
            print(f'  rows={rows:<6} C_in={c_in:<5} C_out={c_out:<5} '
                  f'{setting:<8} {cells}  oneDNN/F.linear '
                  f'{ms["oneDNN"] / ms["F.linear"]:.2f}')

if __name__ == '__main__':
    main()
