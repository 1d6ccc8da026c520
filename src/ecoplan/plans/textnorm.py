"""Text clean-up shared by all importers.

Published plans are typeset Chinese: lines are wrapped inside table cells, justified lines
get spaces between characters ("森 林 覆 盖 率"), and full-width punctuation differs from
file to file. Everything is NFKC-normalised; line breaks inside a cell are joined without
a space; spaces next to a Chinese character or punctuation mark are dropped; spaces between
two Latin words or numbers are kept.
"""

from __future__ import annotations

import re
import unicodedata

# CJK ideographs, CJK and full-width punctuation, curly quotes and the ASCII punctuation
# that NFKC makes out of full-width marks. A space next to one of these is typesetting.
_CJKISH = (
    r"\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    r"\u2014\u2018-\u201f\u2026,.;:!?()\[\]%、"
)
_SPACE_AFTER_CJK = re.compile(rf"(?<=[{_CJKISH}])[ \t\u3000]+")
_SPACE_BEFORE_CJK = re.compile(rf"[ \t\u3000]+(?=[{_CJKISH}])")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def squash_spaces(text: str) -> str:
    """Drop typesetting spaces next to Chinese text; collapse the rest to one space."""
    text = _SPACE_AFTER_CJK.sub("", text)
    text = _SPACE_BEFORE_CJK.sub("", text)
    return re.sub(r"[ \t\u3000]{2,}", " ", text).strip()


def join_lines(lines: list[str] | str) -> str:
    """Join the wrapped lines of one cell into one paragraph.

    Lines are concatenated without a separator: a break inside a Chinese cell is never a
    word boundary, and a Latin token split at a line end ("GEP-\nR") belongs together.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    return squash_spaces("".join(line.strip() for line in lines))


def clean_cell(text: str | None) -> str:
    """NFKC and strip one table cell; ``None`` (a merged cell) becomes ``""``."""
    if text is None:
        return ""
    return nfkc(str(text)).replace("\r\n", "\n").replace("\r", "\n").strip()


def has_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))


_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def chinese_number(text: str) -> int | None:
    """一 → 1, 十二 → 12, 二十三 → 23; None when ``text`` is not a small Chinese numeral."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value
