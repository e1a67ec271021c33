"""Dialogue: rounds, agreed outcomes, and the scorecard computed from the case logs."""
