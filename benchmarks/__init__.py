"""Benchmarks of the zoning model (issue 9): instance generator and runner; see README.md."""
