"""GEP-R: regulating ecosystem-service value (task 12, DB11/T 2059-2022 regulating services)."""
