"""Tests of the face quality gate and match, on public photos."""
