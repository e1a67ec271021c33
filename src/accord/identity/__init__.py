"""Identity resolution: the same person across scripts, romanisations and documents."""
