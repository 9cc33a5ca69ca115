"""The monitor: and update: sections: forms, defaults, and each rule with its key path."""

from __future__ import annotations

import pytest

from loopml.errors import SpecError
from loopml.spec import check_spec, parse_spec, spec_hash
from tests.spec.test_search import HEAD


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        check_spec(parse_spec(text, file="loopml.yaml"))
    return info.value


def test_both_sections_are_optional_and_leave_older_specs_their_hash() -> None:
    spec = parse_spec(HEAD)
    assert spec.monitor.window == 1000 and spec.monitor.drift.settings() == {}
    assert spec.update.retrain == "champion" and spec.update.cooldown == 3600.0
    assert "monitor" not in spec.model_dump() and "update" not in spec.model_dump()
    assert spec_hash(spec) == spec_hash(parse_spec(HEAD + "monitor: {}\nupdate: {}\n"))


def test_windows_are_rows_or_time_spans_and_durations_read_as_people_write_them() -> None:
    spec = parse_spec(
        HEAD
        + "monitor: {window: 24h, drift: {alpha: 0.01, correction: bh}}\n"
        + "update: {cooldown: 1h30m, recent: '800', triggers: {every: 7d, new_labels: 50}}\n"
    )
    assert spec.monitor.window == 86400.0
    assert spec.monitor.drift.settings() == {"alpha": 0.01, "correction": "bh"}
    assert spec.update.cooldown == 5400.0 and spec.update.recent == 800
    assert spec.update.triggers.every == 7 * 86400.0 and spec.update.triggers.new_labels == 50


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("monitor: {window: soon}\n", "monitor.window", "a duration looks like 90s"),
        ("monitor: {window: 0}\n", "monitor.window", "a number of rows >= 1"),
        ("monitor: {drift: {alpha: 1.5}}\n", "monitor.drift.alpha", "less than 1"),
        ("monitor: {drift: {correction: bonferroni}}\n", "monitor.drift.correction", "'holm'"),
        ("update: {cooldown: -1h}\n", "update.cooldown", "a duration looks like"),
        ("update: {retrain: best}\n", "update.retrain", "'champion' or 'all'"),
        ("update: {holdout: 1}\n", "update.holdout", "less than 1"),
        ("update: {promote: {margin: -0.1}}\n", "update.promote.margin", "greater than or equal"),
        ("update: {triggers: {every: 0}}\n", "update.triggers.every", "must be > 0"),
        ("update: {schedule: 1h}\n", "update.schedule", "unknown key 'schedule'"),
    ],
)
def test_rules_name_the_key_and_the_value(text: str, key: str, fragment: str) -> None:
    [problem] = _error(HEAD + text).problems
    assert problem.key == key and fragment in problem.message
