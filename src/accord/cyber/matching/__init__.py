"""Indicator matching: an index of indicators, log readers, suppression, and the engine."""
