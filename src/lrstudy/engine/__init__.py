"""Training engine: one readable loop plus the run-directory contract it writes."""
