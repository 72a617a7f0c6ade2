"""The connector's pure core: no I/O, no clock, no randomness (time and rng are parameters)."""
