"""A virtual national ID card behind a real pcscd (vpcd) or plugged in-process, with a test handle."""
