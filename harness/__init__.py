"""Virtual hardware and a virtual district for tests, the demo and training; never imported by production."""
