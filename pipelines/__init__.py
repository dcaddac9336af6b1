"""The commands' pipelines and their reports."""
