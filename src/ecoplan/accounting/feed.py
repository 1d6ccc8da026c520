"""What the accounting modules (EI, GEP-R) and the clue registers tell the supervision of a measure: computed
evidence shown beside the units' own reports on the measure page.

Which measures get which evidence is data (``data/measure_links.toml``): words in the
measure's text, so the links survive a new year's plan with other numbering.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from ecoplan.plans.models import Measure


@dataclass
class Evidence:
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)
    met: bool | None = None
    link: str = "/ei"
    table: list[dict[str, Any]] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (key in a table row, header)


Provider = Callable[[Session], Evidence | None]


@lru_cache(maxsize=1)
def _links() -> list[dict[str, Any]]:
    raw = (
        resources.files("ecoplan.accounting").joinpath("data/measure_links.toml").read_text("utf-8")
    )
    return list(tomllib.loads(raw)["link"])


def kinds_for(measure: Measure) -> list[str]:
    return [
        link["kind"] for link in _links() if all(word in measure.text for word in link["contains"])
    ]


def _providers() -> dict[str, Provider]:
    from ecoplan.accounting.ei.feed import PROVIDERS as EI
    from ecoplan.accounting.gep.feed import PROVIDERS as GEP
    from ecoplan.cases.enforcement_feed import providers as enforcement
    from ecoplan.cases.feed import providers as cases
    from ecoplan.creation.feed import providers as creation
    from ecoplan.indicators.feed import providers as indicators
    from ecoplan.indicators.project_feed import providers as projects
    from ecoplan.monitoring.feed import providers as monitoring
    from ecoplan.monitoring.register_feed import providers as registers

    return {**EI, **GEP, **cases(), **enforcement(), **monitoring(), **registers(), **indicators(),
            **projects(), **creation()}  # fmt: skip


def evidence_for(session: Session, measure: Measure) -> list[Evidence]:
    providers = _providers()
    out = []
    for kind in kinds_for(measure):
        item = providers[kind](session)
        if item is not None:
            out.append(item)
    return out
