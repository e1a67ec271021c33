"""Names: normalisation, surname-aware readings, romanisation variants and order-free keys."""
