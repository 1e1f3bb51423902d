"""Tests of the camera driver and the HAL camera on real files."""
