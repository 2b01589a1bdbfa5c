from .adversarial_loss import AdversarialLoss
from .dkd_loss import DKDLoss
from .fitnet_loss import FitNetLoss
from .gl_loss import GLLoss
from .kd_loss import KDLoss
from .ofa_loss import OFALoss
from .pca_loss import PCALoss
from .rkd_loss import RKDLoss

__all__ = [
    'AdversarialLoss', 'DKDLoss', 'FitNetLoss', 'GLLoss', 'KDLoss', 'OFALoss',
    'PCALoss', 'RKDLoss'
]
