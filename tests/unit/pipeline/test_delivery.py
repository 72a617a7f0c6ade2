"""The duplicate filter's rule: a redelivery of the same record is processed again, another record of the same
article is a duplicate, and marks expire after the filter's time to live."""

from __future__ import annotations

import pytest

from streams.core.delivery import SEEN_TTL_S, delivery_mark, is_duplicate, is_expired

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("first", "partition", "offset", "duplicate"),
    [
        (None, 0, 5, False),  # never seen
        (delivery_mark(0, 5, NOW), 0, 5, False),  # the same record again (a crash, a rebalance): process it
        (delivery_mark(0, 5, NOW), 0, 6, True),  # another record with the same article id
        (delivery_mark(0, 5, NOW), 1, 5, True),  # the same offset of another partition is another record
        (delivery_mark(0, 5, NOW), 0, 55, True),  # a prefix of the offset is not the offset
    ],
)
def test_only_another_record_of_the_same_article_is_a_duplicate(
    first: bytes | None, partition: int, offset: int, duplicate: bool
) -> None:
    assert is_duplicate(first, partition, offset) is duplicate


def test_marks_expire_after_the_time_to_live() -> None:
    mark = delivery_mark(3, 7, NOW)
    assert not is_expired(mark, NOW + SEEN_TTL_S - 1)
    assert is_expired(mark, NOW + SEEN_TTL_S + 1)
