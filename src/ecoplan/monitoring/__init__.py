"""Biodiversity, invasive species, germplasm and monitoring-station data (issue 8)."""
