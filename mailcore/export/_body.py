"""``Body`` (airsyncbase:Body, MS-ASAIRS §2.2.2.9) as plain text (and HTML).

A body is a plain string or ``{"Type": 1|2|3|4, "Data": "..."}``: 1 plain
text, 2 HTML, 3 RTF, 4 MIME.  HTML is turned into text for NOTE and
DESCRIPTION (and kept for Outlook's ``X-ALT-DESC``); RTF and MIME bodies
are not converted and are reported as skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from mailcore.export._values import Where

__all__ = ["Body", "html_to_text", "read_body"]

_BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, block elements as line breaks."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line).strip()


class Body:
    """Plain text and (for HTML bodies) the original HTML."""

    __slots__ = ("html", "skipped", "text")

    def __init__(self, text: str | None, html: str | None = None, skipped: bool = False) -> None:
        self.text = text
        self.html = html
        self.skipped = skipped


_EMPTY = Body(None)


def read_body(record: Mapping[str, Any], where: Where) -> Body:
    """The record's Body; an RTF/MIME body gives ``skipped=True`` and no text."""
    value = record.get("Body")
    if value is None or value == "":
        return _EMPTY
    if isinstance(value, str):
        return Body(value)
    if not isinstance(value, Mapping):
        where.fail("Body", f"expected text or an object with Type and Data, not {value!r:.40}")
    kind = value.get("Type", 1)
    data = value.get("Data")
    if isinstance(kind, str) and kind.isdigit():
        kind = int(kind)
    if kind not in (1, 2, 3, 4) or isinstance(kind, bool):
        where.fail("Body.Type", f"{kind!r} is not 1 (text), 2 (HTML), 3 (RTF) or 4 (MIME)")
    if data is None or data == "":
        return _EMPTY
    if not isinstance(data, str):
        where.fail("Body.Data", f"expected text, got {type(data).__name__}")
    if kind == 1:
        return Body(data)
    if kind == 2:
        return Body(html_to_text(data) or None, data)
    return Body(None, None, skipped=True)
