"""Smart national ID card: driver, virtual card, document authentication."""
