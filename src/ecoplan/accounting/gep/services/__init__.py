"""The GEP-R services, one module each, registered by id in :data:`REGISTRY`.

A user's own indicator (e.g. a noise-reduction method of their scheme) plugs in as a
package exposing a :class:`~ecoplan.accounting.gep.spec.Service` subclass under the entry-point
group ``ecoplan.gep_services``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from ecoplan.accounting.gep.services.air_purification import AirPurification
from ecoplan.accounting.gep.services.carbon import CarbonFixation, OxygenRelease
from ecoplan.accounting.gep.services.climate_regulation import ClimateRegulation
from ecoplan.accounting.gep.services.flood_regulation import FloodRegulation
from ecoplan.accounting.gep.services.noise_reduction import NoiseReduction
from ecoplan.accounting.gep.services.sand_fixation import SandFixation
from ecoplan.accounting.gep.services.soil_retention import SoilRetention
from ecoplan.accounting.gep.services.water_conservation import WaterConservation
from ecoplan.accounting.gep.services.water_purification import WaterPurification
from ecoplan.accounting.gep.spec import Service
from ecoplan.errors import ValidationError

_BUILT_IN: tuple[Service, ...] = (
    WaterConservation(), SoilRetention(), SandFixation(), FloodRegulation(),
    AirPurification(), WaterPurification(), CarbonFixation(), OxygenRelease(),
    ClimateRegulation(), NoiseReduction(),
)  # fmt: skip
REGISTRY: dict[str, Service] = {s.spec.id: s for s in _BUILT_IN}


def registry() -> dict[str, Service]:
    """Built-in services plus those installed under the ``ecoplan.gep_services`` entry point."""
    found = dict(REGISTRY)
    for entry in entry_points(group="ecoplan.gep_services"):
        service = entry.load()()
        if not isinstance(service, Service):
            raise ValidationError(f"插件 {entry.name} 不是 GEP-R 服务(Service)")
        found[service.spec.id] = service
    return found


def default_services() -> list[str]:
    return [sid for sid, s in REGISTRY.items() if s.spec.default_on]
