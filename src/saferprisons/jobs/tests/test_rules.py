from datetime import timedelta

import pytest

from saferprisons.jobs import rules

from .conftest import START


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (7, 320), (8, 600), (9, 600), (10_000, 600)],
)
def test_retry_delay_doubles_from_five_seconds_and_caps_at_ten_minutes(attempts, seconds):
    assert rules.retry_delay(attempts) == timedelta(seconds=seconds)


def test_retry_delay_refuses_attempt_zero():
    with pytest.raises(ValueError, match="counts from 1"):
        rules.retry_delay(0)


def test_can_retry_until_the_last_attempt():
    assert rules.can_retry(4, 5)
    assert not rules.can_retry(5, 5)


def test_is_stale_only_when_strictly_older_than_the_limit():
    assert not rules.is_stale(START - timedelta(seconds=30), START, 30)
    assert rules.is_stale(START - timedelta(seconds=30, microseconds=1), START, 30)
    assert not rules.is_stale(START, START, 30)


def test_clip_error_keeps_the_first_2000_characters():
    text = "RuntimeError: boom\n" + "x" * 5000
    clipped = rules.clip_error(text)
    assert len(clipped) == 2000
    assert clipped.startswith("RuntimeError: boom\n")
    assert rules.clip_error("short") == "short"
