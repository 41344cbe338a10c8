"""The demo: an empty database filled with a competition built on the seed notice."""
