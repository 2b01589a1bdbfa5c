"""L_pca (paper Eq. 4) and its value-relation matmul."""
import math

import pytest
import torch

from mmcakd.models.losses.pca_loss import PCALoss
from mmcakd.models.utils.gram import value_relation


def test_value_relation_is_scaled_v_vt_with_its_gradient():
    v = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(value_relation, (v, ))
    torch.testing.assert_close(value_relation(v),
                               v @ v.transpose(-2, -1) / 2)


def test_pca_loss_is_eq4_written_out():
    torch.manual_seed(0)
    attn_s, v_s, attn_t, v_t = (torch.randn(2, 4, 9, 8) for _ in range(4))
    loss = PCALoss(attn_weight=0.2, vv_weight=0.05)(attn_s, v_s, attn_t,
                                                    value_relation(v_t))
    d = 8
    rel_s = torch.einsum('bhnd,bhmd->bhnm', v_s, v_s) / math.sqrt(d)
    rel_t = torch.einsum('bhnd,bhmd->bhnm', v_t, v_t) / math.sqrt(d)
    expected = (0.2 * ((attn_s - attn_t)**2).mean() + 0.05 *
                ((rel_s - rel_t)**2).mean())
    torch.testing.assert_close(loss, expected)
    # Without the relation term only the attention term is left.
    alone = PCALoss(attn_weight=0.2, vv_weight=0.0)(attn_s, v_s, attn_t,
                                                    None)
    torch.testing.assert_close(alone, 0.2 * ((attn_s - attn_t)**2).mean())


def test_vv_term_without_the_teacher_relation_is_named():
    t = torch.randn(1, 2, 3, 4)
    with pytest.raises(ValueError, match='relation=True'):
        PCALoss(vv_weight=0.05)(t, t, t, None)
