"""Every ORM model, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from ecoplan.accounting.ei.models import EIResultRow, EIRun
from ecoplan.accounting.gep.models import Compensation, GepResult, GepRun
from ecoplan.accounts.models import Account, LoginAttempt, WebSession
from ecoplan.audit import AuditEntry
from ecoplan.cases.models import Clue, ClueBatch, ClueEvent, CluePhoto, RefFeature, RefLayer
from ecoplan.cases.register_models import (
    EnforcementCase,
    Inspection,
    Patrol,
    TempLandObservation,
    TempLandPermit,
)
from ecoplan.creation.models import ChecklistValue, CreationTask, CreationTitle, PostEvaluation
from ecoplan.db import Base
from ecoplan.greenview.models import GreenViewPoint, GreenViewSurvey
from ecoplan.indicators.models import Indicator, IndicatorValue, Project
from ecoplan.monitoring.invasive_models import (
    ControlAction,
    IntroductionApplication,
    IntroductionEvent,
    InvasiveAlert,
    InvasiveRecord,
    InvasiveSite,
    InvasiveSpecies,
)
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent, Taxon, TaxonName
from ecoplan.monitoring.register_models import Accession, GermplasmRepository, Station, StationValue
from ecoplan.plans.models import Measure, MeasureUnit, Plan, PlanRevision
from ecoplan.supervision.models import (
    Closure,
    Evidence,
    Notification,
    Period,
    Publication,
    Report,
    ReportingCycle,
    SupervisionOrder,
)
from ecoplan.units.models import Unit, UnitAlias

__all__ = [
    "ChecklistValue",
    "CreationTask",
    "CreationTitle",
    "PostEvaluation",
    "GreenViewPoint",
    "GreenViewSurvey",
    "Indicator",
    "IndicatorValue",
    "Project",
    "Accession",
    "ControlAction",
    "GermplasmRepository",
    "IntroductionApplication",
    "IntroductionEvent",
    "InvasiveAlert",
    "InvasiveRecord",
    "InvasiveSite",
    "InvasiveSpecies",
    "Station",
    "StationValue",
    "TaxonName",
    "Taxon",
    "SurveyEvent",
    "Survey",
    "Occurrence",
    "TempLandPermit",
    "TempLandObservation",
    "Patrol",
    "Inspection",
    "EnforcementCase",
    "RefLayer",
    "RefFeature",
    "CluePhoto",
    "ClueEvent",
    "Account",
    "AuditEntry",
    "Base",
    "Closure",
    "Clue",
    "ClueBatch",
    "Compensation",
    "EIResultRow",
    "EIRun",
    "Evidence",
    "GepResult",
    "GepRun",
    "LoginAttempt",
    "Measure",
    "MeasureUnit",
    "Notification",
    "Period",
    "Plan",
    "PlanRevision",
    "Publication",
    "Report",
    "ReportingCycle",
    "SupervisionOrder",
    "Unit",
    "UnitAlias",
    "WebSession",
]
