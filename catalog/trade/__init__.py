"""Orders: buying goods with escrow, the seller-video step, disputes and ratings."""
