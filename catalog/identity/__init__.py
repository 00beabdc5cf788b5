"""Real-name verification (实名认证): the ID number is encrypted at rest and shown masked."""
