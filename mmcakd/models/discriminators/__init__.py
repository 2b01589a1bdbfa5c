from .token_discriminator import TokenDiscriminator

__all__ = ['TokenDiscriminator']
