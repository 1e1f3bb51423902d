"""A load generator: thousands of terminals, enrolled through the real path, reserving over mutual TLS."""
