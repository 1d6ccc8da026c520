"""Every ORM model, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from ecoplan.audit import AuditEntry
from ecoplan.db import Base
from ecoplan.plans.models import Measure, MeasureUnit, Plan, PlanRevision
from ecoplan.units.models import Unit, UnitAlias

__all__ = [
    "AuditEntry",
    "Base",
    "Measure",
    "MeasureUnit",
    "Plan",
    "PlanRevision",
    "Unit",
    "UnitAlias",
]
