"""Deterministic demo data: the sample plan shipped with the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_PLAN = "生态保护2024年行动计划.txt"


def sample_plan_path() -> Path:
    """Path of the sample plan file inside the installed package."""
    return Path(str(resources.files("ecoplan.demo").joinpath("data", SAMPLE_PLAN)))
