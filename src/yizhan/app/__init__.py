"""The composition root: builds everything, starts and stops listeners."""
