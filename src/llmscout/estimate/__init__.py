"""Estimate memory fit, speed, energy and cost of a model on hardware, before running it.

Pure arithmetic on the catalog's records: no heavy imports, fast enough to score every model x
quant x engine of the catalog (``estimate_all``).
"""

from __future__ import annotations

from llmscout.estimate._estimate import Estimate, estimate, estimate_all
from llmscout.estimate.cost import (
    Cost,
    break_even_requests,
    cloud_cost,
    compare_with_cloud,
    local_cost,
)
from llmscout.estimate.energy import Energy, cloud_energy_estimate, microwave_seconds
from llmscout.estimate.finetune import (
    FinetuneMemory,
    PretrainCost,
    finetune_memory,
    pretraining_cost,
)
from llmscout.estimate.memory import MemoryPlan
from llmscout.estimate.quants import ENGINES, Engine, all_quants, normalize_quant, valid_quants
from llmscout.estimate.speed import Calibration, HardwareCalibration, Measurement, Speed

__all__ = [
    "ENGINES", "Calibration", "Cost", "Energy", "Engine", "Estimate", "FinetuneMemory",
    "HardwareCalibration", "Measurement", "MemoryPlan", "PretrainCost", "Speed", "all_quants",
    "break_even_requests", "cloud_cost", "cloud_energy_estimate", "compare_with_cloud",
    "estimate", "estimate_all", "finetune_memory", "local_cost", "microwave_seconds",
    "normalize_quant", "pretraining_cost", "valid_quants",
]
