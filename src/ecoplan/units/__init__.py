"""Unit directory: city bureaus, district governments, aliases and group expressions."""

from ecoplan.units.directory import (
    GroupInfo,
    Resolution,
    UnitDirectory,
    UnitInfo,
    normalize_name,
)

__all__ = ["GroupInfo", "Resolution", "UnitDirectory", "UnitInfo", "normalize_name"]
