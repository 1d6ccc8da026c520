"""What a monitoring record means, shared by the import, the alert rules and the summaries:
whether it is positive, over how many days a catch was made, its rate, and the threshold it is
held against. Kept apart so the three modules agree and none imports another in a circle.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.monitoring.invasive_config import InvasiveConfig
from ecoplan.monitoring.invasive_models import InvasiveRecord, InvasiveSpecies


def is_positive(config: InvasiveConfig, method: str, value: float) -> bool:
    """The organism itself was found: a value above zero by a method that sees the organism
    (a dead-tree count is a symptom, never a positive record by itself)."""
    spec = config.methods.get(method)
    return spec is not None and spec.presence and value > 0


def presence_methods(config: InvasiveConfig) -> list[str]:
    return [key for key, spec in config.methods.items() if spec.presence]


def thresholds_of(config: InvasiveConfig, species: InvasiveSpecies) -> dict[str, float]:
    """Thresholds per method: the rule file's for a species it names, with the species row's
    own (threshold_method, threshold) taking precedence, so an admin-added species, which the
    file does not know, is held against what the admin entered."""
    spec = config.species.get(species.key)
    out = {m: t.value for m, t in spec.thresholds.items()} if spec else {}
    if species.threshold is not None and species.threshold_method:
        out[species.threshold_method] = species.threshold
    return out


def check_days(
    session: Session, config: InvasiveConfig, records: Sequence[InvasiveRecord]
) -> dict[int, float | None]:
    """Days each catch of a daily method stands for: its own effort (trap-days) when given,
    else the days since the previous check of the same species and method at the same site in the
    same year (a trap is emptied at each check, so the catch is what came in since); None when
    neither is known (no effort, no earlier check that year). Non-daily methods get None."""
    out: dict[int, float | None] = {}
    wanted: set[tuple[int, int, str]] = set()
    for r in records:
        spec = config.methods.get(r.method)
        if spec is None or not spec.daily:
            out[r.id] = None
        elif r.effort_days is not None:
            out[r.id] = float(r.effort_days)
        elif r.site_id is None:
            out[r.id] = None
        else:
            wanted.add((r.site_id, r.species_id, r.method))
    if not wanted:
        return out
    # every check of those sites, once: sites hold tens to hundreds of checks a season
    dates: dict[tuple[int | None, int, str], list[dt.date]] = defaultdict(list)
    query = select(InvasiveRecord.site_id, InvasiveRecord.species_id, InvasiveRecord.method,
                   InvasiveRecord.observed_on).where(
        InvasiveRecord.site_id.in_(sorted({s for s, _, _ in wanted})))  # fmt: skip
    for site_id, species_id, method, day in session.execute(query):
        dates[(site_id, species_id, method)].append(day)
    for r in records:
        if r.id in out:
            continue
        assert r.site_id is not None  # records without a site were settled above
        # a season's trapping starts afresh (new lure, trap set out): the last check of the
        # previous year does not start this year's first catch
        earlier = [d for d in dates[(r.site_id, r.species_id, r.method)]
                   if d < r.observed_on and d.year == r.observed_on.year]  # fmt: skip
        out[r.id] = float((r.observed_on - max(earlier)).days) if earlier else None
    return out


def rate(config: InvasiveConfig, record: InvasiveRecord, days: float | None) -> float:
    """The value held against the threshold: the daily catch for a daily method (a catch of
    unknown duration counts as one day's: the reading that alerts rather than misses), the
    value per check for the others."""
    spec = config.methods.get(record.method)
    if spec is not None and spec.daily:
        return record.value / (days if days and days > 0 else 1.0)
    return record.value
