"""Linkage: blocking index, feature comparison, Fellegi–Sunter score and its explanation."""
