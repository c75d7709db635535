"""Cost: cloud API prices per request and month, local electricity plus amortised hardware, and
the monthly volume at which running locally becomes cheaper than each cloud offer."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from llmscout.catalog.spec import CloudOffer, ModelSpec
from llmscout.errors import InvalidValueError


@dataclass(frozen=True, slots=True)
class Cost:
    """Money per request and per month (USD unless ``currency`` says otherwise)."""

    per_request: float
    per_month: float
    currency: str
    requests_per_month: int
    kind: str  # local | cloud
    electricity_price_per_kwh: float | None = None
    electricity_per_request: float | None = None
    hardware_per_month: float | None = None  # amortised purchase price
    price_source: str | None = None
    price_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cloud_cost(offer: CloudOffer, prompt_tokens: int, output_tokens: int,
               requests_per_month: int) -> Cost:
    """API price of one request (input + output tokens) and of a month of them."""
    per = (prompt_tokens * offer.input_per_mtok + output_tokens * offer.output_per_mtok) / 1e6
    return Cost(per, per * requests_per_month, "USD", requests_per_month, "cloud",
                price_source=offer.source, price_date=offer.price_date)


def local_cost(wh_per_request: float, requests_per_month: int, electricity_price_per_kwh: float,
               hardware_price: float | None = None, amortisation_months: int | None = None) -> Cost:
    """Electricity for the requests plus, optionally, the hardware price spread over months.

    Only the energy of the requests themselves is counted (not the machine idling between them).
    """
    _check(electricity_price_per_kwh, "electricity_price", 0, 100)
    elec = wh_per_request / 1000 * electricity_price_per_kwh
    hw_month = 0.0
    if hardware_price:
        _check(hardware_price, "hardware_price", 0, 1e9)
        months = 36 if amortisation_months is None else amortisation_months
        _check(months, "amortisation_months", 1, 1200)
        hw_month = hardware_price / months
    per_month = elec * requests_per_month + hw_month
    per_request = per_month / requests_per_month if requests_per_month else elec
    return Cost(per_request, per_month, "USD", requests_per_month, "local",
                electricity_price_per_kwh, elec, hw_month if hardware_price else None)


def break_even_requests(local: Cost, cloud_per_request: float) -> int | None:
    """Monthly requests above which local is cheaper than the cloud offer; None if never.

    local(v) = hardware_per_month + v x electricity; cloud(v) = v x price. 0 means local is
    cheaper from the first request (no hardware cost counted).
    """
    var_local = local.electricity_per_request or 0.0
    fixed = local.hardware_per_month or 0.0
    if cloud_per_request <= var_local:
        return None
    return math.ceil(fixed / (cloud_per_request - var_local))


def compare_with_cloud(local: Cost, cloud_models: list[ModelSpec], prompt_tokens: int,
                       output_tokens: int) -> list[dict[str, Any]]:
    """For each cloud model: its cost per request/month and the break-even monthly volume."""
    rows = []
    for m in cloud_models:
        if m.cloud is None:
            continue
        c = cloud_cost(m.cloud, prompt_tokens, output_tokens, local.requests_per_month)
        rows.append({"model": m.id, "provider": m.cloud.provider, "per_request": c.per_request,
                     "per_month": c.per_month, "price_date": m.cloud.price_date,
                     "price_source": m.cloud.source,
                     "break_even_requests_per_month": break_even_requests(local, c.per_request)})
    return rows


def _check(value: float, field: str, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high \
            or math.isnan(value):
        raise InvalidValueError(field, value, f"a number between {low:g} and {high:g}")
