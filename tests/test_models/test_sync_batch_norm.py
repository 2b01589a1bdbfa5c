"""SyncBNAnyDevice is BatchNorm2d in one process (the 2-process case is
tests/test_tools/test_ddp_equivalence.py)."""
import torch
from mmcv.cnn import build_norm_layer
from torch import nn

from mmcakd.models.utils import SyncBatchNormAnyDevice
from mmcakd.utils import register_all_modules

register_all_modules()


def test_matches_batch_norm_in_training_and_eval():
    torch.manual_seed(0)
    name, sync = build_norm_layer(dict(type='SyncBNAnyDevice'), 6)
    assert name == 'bn' and isinstance(sync, SyncBatchNormAnyDevice)
    plain = nn.BatchNorm2d(6)
    plain.load_state_dict(sync.state_dict())
    x = torch.randn(5, 6, 4, 3) * 3 + 1
    xs = x.clone().requires_grad_()
    xp = x.clone().requires_grad_()
    for _ in range(2):
        ys, yp = sync(xs), plain(xp)
        assert torch.allclose(ys, yp, atol=1e-5)
    (ys * torch.arange(6.).view(1, 6, 1, 1)).sum().backward()
    (yp * torch.arange(6.).view(1, 6, 1, 1)).sum().backward()
    assert torch.allclose(xs.grad, xp.grad, atol=1e-5)
    assert torch.allclose(sync.weight.grad, plain.weight.grad, atol=1e-4)
    for key, value in plain.state_dict().items():
        assert torch.allclose(sync.state_dict()[key].float(), value.float(),
                              atol=1e-5), key
    sync.eval(), plain.eval()
    assert torch.allclose(sync(x), plain(x), atol=1e-5)
