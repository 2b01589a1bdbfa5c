from .adversarial_loss import AdversarialLoss
from .gl_loss import GLLoss
from .pca_loss import PCALoss

__all__ = ['AdversarialLoss', 'GLLoss', 'PCALoss']
