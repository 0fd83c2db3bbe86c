"""Specification tests for the pure protocol core and the deterministic simulator."""
