"""Center protocol v1: the only module the terminal and the district center share."""
