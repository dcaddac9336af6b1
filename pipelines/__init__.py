"""The commands' pipelines and their reports: one module per command (``plan``, ``project``,
``check_plan``, ``sweep``, ``validate``, ``publish``, ``autumn``, ``indicators``, ``compare``);
``inputs`` loads the data and guards the outputs they share. ``cli.py`` parses options and calls
these modules only.

This module holds what every pipeline shares and imports nothing of the project: the tool's
version and the errors a pipeline raises for the command line.
"""
from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "pingluo-zoning"
SOURCE_VERSION = "0.1.0+src"


def tool_version() -> str:
    """The installed version of the tool (``run.json``'s ``tool_version``, ``zoning --version``)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a source tree
        return SOURCE_VERSION


class PlanError(Exception):
    """Unusable input for a plan command (exit code 2); the message says why, in Chinese."""

    exit_code = 2


class NoPlanError(PlanError):
    """The inputs are usable but no plan meeting the rules was found (a finding: exit code 1)."""

    exit_code = 1
