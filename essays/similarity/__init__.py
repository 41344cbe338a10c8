"""Copy detection (查重): normalisation, fingerprints, alignment, reports."""
