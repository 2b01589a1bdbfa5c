"""Time the attention kernels of ``accel.attention`` side by side.

    python tools/cpu_bench/benchmark_attention.py
        [--shapes B,HEADS,N,D ...] [--rounds 20] [--threads 2]

For each (B, heads, N, d), on this machine's CPU, it prints the median
time of torch's fused ``scaled_dot_product_attention`` ('sdpa') and of the
explicit two-matmul kernel, and explicit / sdpa, in three settings:
a forward in fp32 and one in bf16 under autocast (a teacher's, under
inference mode), and a forward and backward in fp32 (CAKD's PCA
projector). Q, K and V are strided views of one (B, N, 3, heads, d)
tensor, as a qkv linear outputs them (in bf16 under a bf16 teacher). The
kernels alternate within each round. Freed memory is kept in the process (``accel.keep_cpu_memory``, the
CPU default): without it the large score tensors are page-faulted in
afresh at every call, which this would time instead. ``'auto'`` uses
the explicit kernel on CPU for bf16/fp16 inputs and for fewer than 64
keys; this prints what that rests on.
"""
from functools import partial

import torch
import torch.nn.functional as F

from mmcakd.cpu.attention import explicit_attention
from mmcakd.cpu.microbench import median_ms, parse_microbench_args

KERNELS = dict(sdpa=F.scaled_dot_product_attention,
               explicit=explicit_attention)
SHAPES = ('128,4,50,32', '8,24,49,32', '8,12,197,64', '64,3,197,64',
          '8,12,785,64')


def step(kernel, qkv: torch.Tensor, setting: str) -> None:
    """One call of ``kernel`` on Q, K, V read from ``qkv`` (B, N, 3, heads,
    d), in ``setting``."""
    if setting == 'fp32 fwd+bwd':
        x = qkv.detach().requires_grad_()
        kernel(*x.permute(2, 0, 3, 1, 4).unbind(0)).sum().backward()
        return
    with torch.inference_mode(), torch.autocast(
            'cpu', dtype=torch.bfloat16, enabled=qkv.dtype != torch.float32):
        kernel(*qkv.permute(2, 0, 3, 1, 4).unbind(0))


def main() -> None:
    args = parse_microbench_args(__doc__.split('\n')[0], SHAPES,
                                 'B,HEADS,N,D')
    print(f'{args.threads} threads, median of {args.rounds} rounds')
    for shape in args.shapes:
        B, heads, N, d = (int(s) for s in shape.split(','))
        fp32 = torch.randn(B, N, 3, heads, d)
        for setting, qkv in (('fp32 fwd', fp32), ('bf16 fwd', fp32.bfloat16()),
                             ('fp32 fwd+bwd', fp32)):
            ms = median_ms({name: partial(step, kernel, qkv, setting)
                            for name, kernel in KERNELS.items()}, args.rounds)
            print(f'  B={B:<3} heads={heads:<2} N={N:<3} d={d:<2} '
                  f'{setting:<12}  sdpa {ms["sdpa"]:8.2f} ms  explicit '
                  f'{ms["explicit"]:8.2f} ms  explicit/sdpa '
                  f'{ms["explicit"] / ms["sdpa"]:.2f}')

if __name__ == '__main__':
    main()
