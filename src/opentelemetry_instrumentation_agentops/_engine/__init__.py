"""Sessions, their spans and their totals: what every way into the package shares."""
