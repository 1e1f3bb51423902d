"""PC/SC driver: APDU codec and status words, ATR capabilities, pyscard transport, reader monitor."""
