"""Tropa test suite."""
