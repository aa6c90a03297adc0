"""Threads text rules: character counting (emoji by UTF-8 bytes), link counting, topic tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.threads.text import (
    EMOJI_BMP_RANGES,
    count_characters,
    count_links,
    counting_rule,
    find_urls,
    first_text_tag,
    topic_tag_problem,
)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("hello", 5),
        ("", 0),
        ("héllo wörld", 11),  # accented letters count 1
        ("日本語", 3),  # CJK in the BMP counts 1
        ("😀", 4),  # astral emoji: 4 UTF-8 bytes
        ("❤️", 6),  # U+2764 (3 bytes) + U+FE0F (3 bytes)
        ("❤", 3),
        ("👍🏽", 8),  # emoji + skin tone modifier
        ("🇺🇸", 8),  # two regional indicators
        ("1️⃣", 7),  # '1' + U+FE0F + U+20E3 keycap
        ("👨‍👩‍👧", 18),  # three emoji joined by two ZWJs (3 bytes each)
        ("©", 2),
        ("a😀b", 6),
    ],
)
def test_count_characters(text: str, count: int):
    assert count_characters(text) == count


def test_an_emoji_sequence_counts_its_full_utf8_length():
    family = "👨‍👩‍👧‍👦"
    assert count_characters(family) == len(family.encode("utf-8"))


@given(st.text())
def test_count_is_additive_and_at_least_the_code_points(text: str):
    half = len(text) // 2
    assert count_characters(text) == count_characters(text[:half]) + count_characters(text[half:])
    assert len(text) <= count_characters(text) <= len(text.encode("utf-8"))


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_ascii_counts_one_per_character(text: str):
    assert count_characters(text) == len(text)


@given(st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), min_size=1))
def test_astral_emoji_count_their_utf8_bytes(text: str):
    assert count_characters(text) == len(text.encode("utf-8"))


def test_the_rule_is_exported_for_a_javascript_counter():
    rule = counting_rule()
    assert rule["limit"] == 500
    assert [tuple(r) for r in rule["emoji_bmp_ranges"]] == list(EMOJI_BMP_RANGES)
    assert all(low <= high <= 0xFFFF for low, high in EMOJI_BMP_RANGES)


@pytest.mark.parametrize(
    ("text", "attachment", "links"),
    [
        ("see facebook.com", "https://facebook.com", 1),
        ("instagram.com and threads.com", "https://facebook.com", 3),
        ("example.com, example.com and test.com", "https://test.com", 2),
        ("https://www.Example.com/ and example.com", None, 1),
        ("https://example.com/a and https://example.com/b", None, 2),
        ("node.js, e.g. this, mail me@example.com", None, 0),
        ("", "https://example.com", 1),
    ],
)
def test_count_links_follows_metas_examples(text: str, attachment: str | None, links: int):
    assert count_links(text, attachment) == links


def test_find_urls_strips_sentence_punctuation():
    assert find_urls("Read https://example.com/a. Or (www.test.org)!") == [
        "https://example.com/a",
        "www.test.org",
    ]


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ("Mondays", None),
        ("a" * 50, None),
        ("a" * 51, "Shorten it by 1"),
        ("", "empty"),
        ("a.b", "'.'"),
        ("a&b", "'&'"),
    ],
)
def test_topic_tag_problem(tag: str, problem: str | None):
    found = topic_tag_problem(tag)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("Hello #Mondays rock", "Mondays"),
        ("#1 is not a tag but #two is", "two"),
        ("#tag.with.dot", "tag"),
        ("no tags", None),
        ("#first #second", "first"),
    ],
)
def test_first_text_tag(text: str, tag: str | None):
    assert first_text_tag(text) == tag
