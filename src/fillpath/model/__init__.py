"""Shared vocabulary: asset ids, locations, exact amounts, errors."""

from fillpath.model.amounts import BaseUnits, Wei, from_base_units, to_base_units
from fillpath.model.assets import AssetId, Location, LocationKind
from fillpath.model.errors import (
    Ambiguous,
    FillpathError,
    Halted,
    InvalidInput,
    LabError,
    Rejected,
    Retryable,
)

__all__ = [
    "Ambiguous",
    "AssetId",
    "BaseUnits",
    "FillpathError",
    "Halted",
    "InvalidInput",
    "LabError",
    "Location",
    "LocationKind",
    "Rejected",
    "Retryable",
    "Wei",
    "from_base_units",
    "to_base_units",
]
