"""Time 3x3 convolutions and batch norms in the standard and channels-last
layouts, side by side (what ``accel.channels_last`` rests on).

    python tools/cpu_bench/benchmark_conv_layout.py
        [--shapes B,C_IN,C_OUT,SIZE,STRIDE ...] [--rounds 20] [--threads 2]

For each shape, on this machine's CPU, it prints the median time of a 3x3
convolution's forward, input gradient and weight gradient (oneDNN, fp32,
padding 1), and of a batch norm's forward and backward on its output, in
the standard (NCHW) layout and channels-last, and channels-last / NCHW for
the convolution's two gradients together and for the batch norm. The
layouts alternate within each round; freed memory is kept in the process,
as ``accel.keep_cpu_memory`` does on CPU. The default shapes are the
Fashion-MNIST student's layers at batch 128 (4, 8 and 16 channels) and
ResNet-50's 3x3 layers at batch 8.
"""
import torch
import torch.nn.functional as F

from mmcakd.cpu.microbench import median_ms, parse_microbench_args

LAYOUTS = {'NCHW': torch.contiguous_format,
           'channels-last': torch.channels_last}
SHAPES = ('128,4,4,28,1', '128,4,8,28,2', '128,8,8,14,1', '128,8,16,14,2',
          '128,16,16,7,1', '8,64,64,56,1', '8,128,128,28,1',
          '8,256,256,14,1', '8,512,512,7,1')
PARTS = ('fwd', 'input grad', 'weight grad', 'bn fwd+bwd')


def parts(x: torch.Tensor, w: torch.Tensor, stride: int) -> dict:
    """The four timed calls on ``x`` and ``w`` (in one layout)."""
    out = F.conv2d(x, w, stride=stride, padding=1)
    grad = torch.randn_like(out)
    bn_in = out.detach().requires_grad_()
    channels = out.shape[1]
    stats = (torch.zeros(channels), torch.ones(channels))

    def backward(mask):
        return lambda: torch.ops.aten.convolution_backward(
            grad, x, w, None, [stride] * 2, [1, 1], [1, 1], False, [0, 0],
            1, mask)

    def batch_norm():
        F.batch_norm(bn_in, *stats, training=True).backward(grad)

    return {'fwd': lambda: F.conv2d(x, w, stride=stride, padding=1),
            'input grad': backward([True, False, False]),
            'weight grad': backward([False, True, False]),
            'bn fwd+bwd': batch_norm}


def main() -> None:
    args = parse_microbench_args(__doc__.split('\n')[0], SHAPES,
                                 'B,C_IN,C_OUT,SIZE,STRIDE')
    print(f'{args.threads} threads, median of {args.rounds} rounds, fp32, '
          'ms')
    for shape in args.shapes:
        B, c_in, c_out, size, stride = (int(s) for s in shape.split(','))
        x = torch.randn(B, c_in, size, size)
        w = torch.randn(c_out, c_in, 3, 3)
        calls = {name: parts(x.contiguous(memory_format=fmt),
                             w.contiguous(memory_format=fmt), stride)
                 for name, fmt in LAYOUTS.items()}
        ms = median_ms({(name, part): calls[name][part]
                        for part in PARTS for name in LAYOUTS}, args.rounds)
        grads = {name: ms[name, 'input grad'] + ms[name, 'weight grad']
                 for name in LAYOUTS}
        bn = {name: ms[name, 'bn fwd+bwd'] for name in LAYOUTS}
        cells = '  '.join(
            f'{name}: ' + ' '.join(f'{part} {ms[name, part]:.3f}'
                                   for part in PARTS) for name in LAYOUTS)
        print(f'  B={B:<3} {c_in:>3} -> {c_out:<3} {size}x{size} '
              f'stride {stride}  {cells}  channels-last/NCHW: conv grads '
              f'{grads["channels-last"] / grads["NCHW"]:.2f} bn '
              f'{bn["channels-last"] / bn["NCHW"]:.2f}')

if __name__ == '__main__':
    main()
