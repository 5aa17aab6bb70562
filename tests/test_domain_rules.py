"""Every validation rule, reported at the field that breaks it (no database needed)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from missionkit.domain.models import (
    ActivityFields,
    ContributionFields,
    IndicatorFields,
    MissionFields,
    ObservationFields,
    OrganisationFields,
    RegionFields,
)
from missionkit.domain.problems import problems_from

INDICATOR = {
    "slug": "no2",
    "name": "NO2",
    "unit": "µg/m³",
    "direction": "decrease",
    "baseline_value": 40,
    "baseline_date": "2023-12-31",
    "target_value": 20,
    "target_date": "2030-12-31",
}
MISSION = {"slug": "m", "title": "M", "start": "2024-01-01", "deadline": "2030-12-31"}
ACTIVITY = {
    "identifier": "A-1",
    "title": "A",
    "total_cost": 100,
    "public_contribution": 50,
    "currency": "EUR",
}


def errors(model: Any, data: dict[str, Any]) -> dict[str, str]:
    """{field path: message} for invalid data; fails the test if the data is valid."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {p.path: p.message for p in problems_from(caught.value)}


def test_valid_records_pass() -> None:
    IndicatorFields.model_validate(INDICATOR)
    MissionFields.model_validate(MISSION)
    ActivityFields.model_validate(ACTIVITY)


def test_target_on_the_wrong_side_of_the_baseline_names_target_value() -> None:
    found = errors(IndicatorFields, {**INDICATOR, "target_value": 45})
    assert list(found) == ["target_value"]
    assert "above the baseline 40" in found["target_value"]
    found = errors(IndicatorFields, {**INDICATOR, "direction": "increase"})
    assert "below the baseline" in found["target_value"]


def test_target_needs_a_date_after_the_baseline() -> None:
    assert (
        "needs a target date"
        in errors(IndicatorFields, {**INDICATOR, "target_date": None})["target_date"]
    )
    found = errors(IndicatorFields, {**INDICATOR, "target_date": "2020-01-01"})
    assert "after the baseline date" in found["target_date"]


def test_deadline_before_start_names_deadline() -> None:
    found = errors(MissionFields, {**MISSION, "deadline": "2023-01-01"})
    assert list(found) == ["deadline"]
    assert "must be after the start 2024-01-01" in found["deadline"]


@pytest.mark.parametrize("code", ["XX", "DE-ZZ", "DE99Z", "de21", ""])
def test_unknown_region_code_names_the_list_position(code: str) -> None:
    found = errors(MissionFields, {**MISSION, "regions": ["FR", code]})
    assert list(found) == ["regions[1]"]
    assert "unknown region code" in found["regions[1]"]


@pytest.mark.parametrize("code", ["FR", "DE-BY", "EL30", "UKI3", "PT300", "ES-CT"])
def test_known_region_codes_pass(code: str) -> None:
    assert MissionFields.model_validate({**MISSION, "regions": [code]}).regions == [code]


def test_region_listed_twice() -> None:
    assert "listed twice" in errors(MissionFields, {**MISSION, "regions": ["FR", "FR"]})["regions"]


@pytest.mark.parametrize("field", ["total_cost", "public_contribution"])
def test_negative_budget_names_the_field(field: str) -> None:
    found = errors(ActivityFields, {**ACTIVITY, field: -1})
    assert found[field] == "must not be negative"


def test_fractions_of_a_cent_are_refused() -> None:
    assert (
        "Decimal input should have no more than 2 decimal places"
        in errors(ActivityFields, {**ACTIVITY, "total_cost": "100.001"})["total_cost"]
    )


def test_unknown_currency_names_currency() -> None:
    found = errors(ActivityFields, {**ACTIVITY, "currency": "EUX"})
    assert list(found) == ["currency"]
    assert "unknown currency 'EUX'" in found["currency"]


def test_budget_without_currency() -> None:
    assert (
        "needs an ISO 4217 currency"
        in errors(ActivityFields, {**ACTIVITY, "currency": None})["currency"]
    )


def test_public_contribution_above_total_cost() -> None:
    found = errors(ActivityFields, {**ACTIVITY, "public_contribution": 150})
    assert "exceeds the total cost 100" in found["public_contribution"]


def test_trl_range_and_activity_dates() -> None:
    assert (
        "below trl_min"
        in errors(ActivityFields, {**ACTIVITY, "trl_min": 5, "trl_max": 3})["trl_max"]
    )
    assert "trl_min" in errors(ActivityFields, {**ACTIVITY, "trl_min": 10})
    found = errors(ActivityFields, {**ACTIVITY, "start": "2025-01-01", "end": "2024-01-01"})
    assert "before the start" in found["end"]


def test_suggested_contribution_needs_a_score() -> None:
    found = errors(ContributionFields, {"provenance": "suggested"})
    assert "needs the mapping score" in found["score"]
    assert "weight" in errors(ContributionFields, {"weight": 1.5})


def test_observation_period_must_end_on_its_date() -> None:
    found = errors(
        ObservationFields, {"date": "2024-01-01", "period_start": "2024-06-01", "value": 1}
    )
    assert "after the observation date" in found["period_start"]


def test_unknown_fields_are_refused_not_dropped() -> None:
    assert errors(MissionFields, {**MISSION, "dedline": "2030-01-01"}) == {
        "dedline": "Extra inputs are not permitted"
    }


def test_organisation_country_must_be_iso_alpha2() -> None:
    assert (
        "unknown country code"
        in errors(OrganisationFields, {"identifier": "x", "name": "X", "country": "Germany"})[
            "country"
        ]
    )


def test_region_level_must_match_the_reference() -> None:
    assert (
        "is a nuts2 code, not nuts3"
        in errors(RegionFields, {"code": "DE21", "level": "nuts3"})["level"]
    )


@given(
    baseline=st.floats(-1e6, 1e6, allow_nan=False),
    target=st.floats(-1e6, 1e6, allow_nan=False),
    direction=st.sampled_from(["increase", "decrease"]),
)
def test_target_side_rule_holds_for_any_values(
    baseline: float, target: float, direction: str
) -> None:
    data = {**INDICATOR, "baseline_value": baseline, "target_value": target, "direction": direction}
    good = target >= baseline if direction == "increase" else target <= baseline
    try:
        IndicatorFields.model_validate(data)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == good
