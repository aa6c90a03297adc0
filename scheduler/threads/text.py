"""Text rules of Threads posts: how characters and links are counted, and what a topic tag may be.

Character counting (shared by the pre-flight check, the simulator and the dashboard's live
counter). Meta documents the 500-character limit with one extra sentence: "emojis are counted as
the number of UTF-8 bytes". We implement that sentence literally, per Unicode code point (the text
is not normalised):

* A code point weighs **its UTF-8 byte length** when it is part of an emoji: every code point
  outside the Basic Multilingual Plane (U+10000 and up: 😀, 🇺🇸 flag halves, skin tones, …), the BMP
  code points that Unicode lists as emoji (`EMOJI_BMP_RANGES`: ❤ ☀ ✅ ⭐ ©, …) and the emoji joiners
  and modifiers (ZWJ U+200D, variation selectors U+FE0E/U+FE0F, the keycap U+20E3).
* Every other code point (ASCII, accented letters, CJK, Arabic, …) weighs 1.

So "hello" is 5, "😀" is 4, "❤️" (U+2764 U+FE0F) is 3 + 3 = 6 and "👍🏽" is 4 + 4 = 8. Astral code
points that are not emoji (rare CJK, mathematical letters) also weigh 4: this errs on the safe
side, so a post we accept is never rejected by Threads for length.

A JavaScript counter mirrors this exactly by iterating code points (`for (const ch of text)`),
taking `cp = ch.codePointAt(0)`, and adding `cp > 0xFFFF ? 4 : inEmojiRanges(cp) ? (cp < 0x800 ? 2
: 3) : 1`, with the ranges rendered from `EMOJI_BMP_RANGES` (see `counting_rule()`).

Links: every unique URL in the text counts once (scheme URLs, `www.` hosts, and bare domains with a
common top-level domain such as `example.com/path`); a link attachment adds one only when it
differs from all of them. URLs are compared without scheme, without a leading `www.` and without a
trailing `/`, host case-insensitively.
"""

from __future__ import annotations

import re
from typing import Any

TEXT_LIMIT = 500
LINK_LIMIT = 5
TOPIC_TAG_MAX = 50
TOPIC_TAG_FORBIDDEN = ".&"

# BMP code points with the Unicode "Emoji" property (emoji-data.txt), minus the digits, '#' and '*'
# (they are emoji only inside a keycap sequence, whose U+FE0F and U+20E3 are counted below), plus
# the emoji joiners and modifiers. Inclusive ranges.
EMOJI_BMP_RANGES: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x200D, 0x200D), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x20E3, 0x20E3), (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA),
    (0x24C2, 0x24C2), (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE),
    (0x2600, 0x2604), (0x260E, 0x260E), (0x2611, 0x2611), (0x2614, 0x2615), (0x2618, 0x2618),
    (0x261D, 0x261D), (0x2620, 0x2620), (0x2622, 0x2623), (0x2626, 0x2626), (0x262A, 0x262A),
    (0x262E, 0x262F), (0x2638, 0x263A), (0x2640, 0x2640), (0x2642, 0x2642), (0x2648, 0x2653),
    (0x265F, 0x2660), (0x2663, 0x2663), (0x2665, 0x2666), (0x2668, 0x2668), (0x267B, 0x267B),
    (0x267E, 0x267F), (0x2692, 0x2697), (0x2699, 0x2699), (0x269B, 0x269C), (0x26A0, 0x26A1),
    (0x26A7, 0x26A7), (0x26AA, 0x26AB), (0x26B0, 0x26B1), (0x26BD, 0x26BE), (0x26C4, 0x26C5),
    (0x26C8, 0x26C8), (0x26CE, 0x26CF), (0x26D1, 0x26D1), (0x26D3, 0x26D4), (0x26E9, 0x26EA),
    (0x26F0, 0x26F5), (0x26F7, 0x26FA), (0x26FD, 0x26FD), (0x2702, 0x2702), (0x2705, 0x2705),
    (0x2708, 0x270D), (0x270F, 0x270F), (0x2712, 0x2712), (0x2714, 0x2714), (0x2716, 0x2716),
    (0x271D, 0x271D), (0x2721, 0x2721), (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744),
    (0x2747, 0x2747), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757),
    (0x2763, 0x2764), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0), (0x27BF, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299), (0xFE0E, 0xFE0F),
)  # fmt: skip

_EMOJI_BMP: frozenset[int] = frozenset(
    cp for low, high in EMOJI_BMP_RANGES for cp in range(low, high + 1)
)


def character_weight(char: str) -> int:
    """How much one code point counts toward the 500-character limit (see the module docstring)."""
    cp = ord(char)
    if cp < 0x80:
        return 1
    if cp > 0xFFFF:
        return 4
    if cp in _EMOJI_BMP:
        return 2 if cp < 0x800 else 3
    return 1


def count_characters(text: str) -> int:
    """Count `text` as Threads does: 1 per code point, emoji code points by their UTF-8 bytes."""
    if text.isascii():
        return len(text)
    return sum(map(character_weight, text))


def counting_rule() -> dict[str, Any]:
    """The counting rule as data, for a JavaScript counter to mirror (render it as JSON)."""
    return {
        "limit": TEXT_LIMIT,
        "astral_weight": 4,
        "emoji_bmp_ranges": [list(r) for r in EMOJI_BMP_RANGES],
        "description": (
            "Iterate code points; code points above U+FFFF weigh 4, code points in "
            "emoji_bmp_ranges weigh their UTF-8 length (2 below U+0800, else 3), all others "
            "weigh 1."
        ),
    }


# Bare domains ("example.com/x") only count as links with a common top-level domain, so that words
# such as "node.js" or "e.g." are not taken for links.
_BARE_TLDS = (
    "com|net|org|io|co|dev|app|ai|me|ly|gl|gg|tv|info|biz|edu|gov|xyz|site|online|shop|store|blog|"
    "news|link|page|live|tech|us|uk|ca|de|fr|es|it|nl|eu|au|jp|in|br|ru|ch|se|no|fi|dk|pl|pt|be|at|"
    "ie|nz|mx|ar|kr|cn|tw|hk|sg|za|threads"
)
_URL_RE = re.compile(
    r"(?<![\w@.-])(?:"
    r"https?://[^\s<>\"'`]+"
    r"|www\.[^\s<>\"'`]+"
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + _BARE_TLDS
    + r")(?![\w-])(?:[/?#][^\s<>\"'`]*)?"
    r")",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def find_urls(text: str) -> list[str]:
    """The URLs in `text`, in order of appearance, with trailing sentence punctuation removed."""
    return [m.group(0).rstrip(_TRAILING_PUNCTUATION) for m in _URL_RE.finditer(text)]


def normalize_url(url: str) -> str:
    """The comparison key of a URL: no scheme, `www.` or trailing `/`; lower-case host."""
    rest = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip(), flags=re.IGNORECASE)
    host, sep, path = rest.partition("/")
    host = host.lower().removeprefix("www.")
    return (host + sep + path).rstrip("/")


def unique_links(text: str, link_attachment: str | None = None) -> list[str]:
    """The distinct links Threads counts for a post (Meta's rule in the module docstring)."""
    seen: dict[str, str] = {}
    for url in find_urls(text):
        seen.setdefault(normalize_url(url), url)
    if link_attachment:
        seen.setdefault(normalize_url(link_attachment), link_attachment)
    return list(seen.values())


def count_links(text: str, link_attachment: str | None = None) -> int:
    """How many links count toward Threads' limit of 5 per post."""
    return len(unique_links(text, link_attachment))


def topic_tag_problem(tag: str) -> str | None:
    """Why `tag` is not a valid `topic_tag` parameter, or None when it is valid."""
    length = len(tag)
    if not tag.strip():
        return "Topic tag is empty; remove it or write 1 to 50 characters."
    if length > TOPIC_TAG_MAX:
        return (
            f"Topic tag is {length} characters; Threads allows {TOPIC_TAG_MAX}. Shorten it by "
            f"{length - TOPIC_TAG_MAX}."
        )
    bad = sorted({c for c in tag if c in TOPIC_TAG_FORBIDDEN})
    if bad:
        return f"Topic tag cannot contain {' or '.join(repr(c) for c in bad)}; remove them."
    return None


_TAG_END = " \t\n.&@!?,;:"


def first_text_tag(text: str) -> str | None:
    """The legacy in-text topic tag Threads would pick: the first `#tag` that is not only digits."""
    start = 0
    while (i := text.find("#", start)) != -1:
        j = i + 1
        while j < len(text) and text[j] not in _TAG_END and text[j] != "#":
            j += 1
        candidate = text[i + 1 : j]
        if candidate and not candidate.isdigit():
            return candidate
        start = j if j > i else i + 1
    return None
