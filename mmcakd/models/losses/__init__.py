from .adversarial_loss import AdversarialLoss
from .cls_token_loss import ClassTokenLoss
from .dkd_loss import DKDLoss
from .fitnet_loss import FitNetLoss
from .gl_loss import GLLoss
from .kd_loss import KDLoss
from .labelled_only import (UNLABELLED, LabelledOnlyLoss,
                             accepts_sample_weight)
from .logit_loss import LogitLoss
from .ofa_loss import OFALoss
from .pca_loss import PCALoss
from .rkd_loss import RKDLoss

__all__ = [
    'AdversarialLoss', 'ClassTokenLoss', 'DKDLoss', 'FitNetLoss', 'GLLoss',
    'KDLoss', 'LabelledOnlyLoss', 'LogitLoss', 'OFALoss', 'PCALoss',
    'RKDLoss', 'UNLABELLED', 'accepts_sample_weight'
]
