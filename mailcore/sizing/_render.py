"""Reports for people: a terminal table, CSV and a self-contained HTML page.

The HTML page has one inline SVG chart per mailbox (messages and bytes by
window against the two limits), no scripts and no external resources; its
Content-Security-Policy forbids loading anything, so it can be mailed or
archived and opened offline.  Every value from a mailbox (paths, folder
names) is escaped.
"""

from __future__ import annotations

import csv
import html
import io

from mailcore.sizing._model import MailboxSizing, SizingReport, WindowTotals, format_time

__all__ = ["human_bytes", "render_csv", "render_html", "render_table"]


def human_bytes(size: int | None) -> str:
    """``1.5 MiB`` (binary units, as the 600 MiB limit is written)."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError  # unreachable


def _rows(windows: tuple[WindowTotals, ...]) -> list[tuple[str, ...]]:
    return [
        (
            w.window,
            str(w.filter_type),
            f"{w.messages:,}",
            human_bytes(w.bytes),
            human_bytes(w.attachment_bytes),
            "EXCEEDS" if w.exceeds else "ok",
        )
        for w in windows
    ]


def _grid(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    header = ("window", "type", "messages", "bytes", "attachments", "limits")
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = []
    for row in table:
        cells = [
            cell.ljust(widths[i]) if i in (0, 5) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def render_table(report: SizingReport, *, folders: bool = False) -> str:
    """A plain-text report for a terminal."""
    limits = report.thresholds
    lines = [
        f"sync sizing at {format_time(report.now)}; limits: more than "
        f"{limits.messages:,} messages or {human_bytes(limits.bytes)}",
        "",
    ]
    for mailbox in report.mailboxes:
        recommended = mailbox.recommended_window or "none (even 1d exceeds a limit)"
        lines.append(
            f"{mailbox.path}  ({mailbox.layout}, {len(mailbox.folders)} folder(s))"
            f"  recommended window: {recommended}"
        )
        lines.extend(_grid(_rows(mailbox.windows)))
        if mailbox.bad_input.total:
            lines.append(f"  bad input: {mailbox.bad_input.describe()}")
        if folders:
            for folder in mailbox.folders:
                lines.append(f"  folder {folder.name}")
                lines.extend(_grid(_rows(folder.windows), indent="    "))
        lines.append("")
    for failure in report.failures:
        lines.append(f"FAILED {failure.path}: {failure.error}")
    if len(report.mailboxes) > 1:
        org = report.org
        lines.append(f"organisation: {org.mailboxes:,} mailboxes")
        lines.append(
            "  over a limit: "
            + ", ".join(f"{window} {count:,}" for window, count in org.exceeding)
        )
        lines.append(
            f"  largest window keeping {org.share:.0%} under both limits: "
            f"{org.largest_window or 'none'}"
        )
    check = report.policy
    lines.append(
        f"policy: max_sync_interval {check.max_sync_interval}, "
        f"default_sync_interval {check.default_sync_interval}: "
        + ("ok" if check.ok else "PROBLEM")
    )
    lines.extend(f"  problem: {text}" for text in check.problems)
    lines.extend(f"  warning: {text}" for text in check.warnings)
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    # OWASP CSV injection: a spreadsheet would run a cell starting with these.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render_csv(report: SizingReport) -> str:
    """One row per mailbox, folder and window; the empty folder is the mailbox total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 §2
    writer.writerow(
        ["path", "folder", "window", "filter_type", "messages", "bytes", "attachment_bytes",
         "exceeds", "recommended_window"]
    )  # fmt: skip

    def rows(mailbox: MailboxSizing, folder: str, windows: tuple[WindowTotals, ...]) -> None:
        for w in windows:
            writer.writerow(
                [
                    _cell(mailbox.path),
                    _cell(folder),
                    w.window,
                    w.filter_type,
                    w.messages,
                    w.bytes,
                    "" if w.attachment_bytes is None else w.attachment_bytes,
                    "true" if w.exceeds else "false",
                    mailbox.recommended_window or "",
                ]
            )

    for mailbox in report.mailboxes:
        rows(mailbox, "", mailbox.windows)
        for folder in mailbox.folders:
            rows(mailbox, folder.name, folder.windows)
    return out.getvalue()


_CHART_W, _CHART_H, _PAD = 300, 170, 34


def _panel(
    title: str, values: list[int], limit: int, labels: list[str], x0: int, fmt: type | None
) -> list[str]:
    top = max([limit, *values]) * 1.15 or 1
    inner_h = _CHART_H - 2 * _PAD
    step = (_CHART_W - _PAD - 10) / len(values)
    parts = [
        f'<text x="{x0 + _PAD}" y="16" class="t">{html.escape(title)}</text>',
        f'<line x1="{x0 + _PAD}" y1="{_CHART_H - _PAD}" x2="{x0 + _CHART_W - 10}" '
        f'y2="{_CHART_H - _PAD}" class="axis"/>',
    ]
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = inner_h * value / top
        x = x0 + _PAD + index * step + 4
        y = _CHART_H - _PAD - height
        over = " over" if value > limit else ""
        shown = human_bytes(value) if fmt is None else f"{value:,}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step - 8:.1f}" height="{height:.1f}" '
            f'class="bar{over}"><title>{html.escape(label)}: {html.escape(shown)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + (step - 8) / 2:.1f}" y="{_CHART_H - _PAD + 14}" class="l">'
            f"{html.escape(label)}</text>"
        )
    limit_y = _CHART_H - _PAD - inner_h * limit / top
    limit_text = human_bytes(limit) if fmt is None else f"{limit:,}"
    parts.append(
        f'<line x1="{x0 + _PAD}" y1="{limit_y:.1f}" x2="{x0 + _CHART_W - 10}" y2="{limit_y:.1f}" '
        f'class="limit"><title>limit {html.escape(limit_text)}</title></line>'
    )
    parts.append(
        f'<text x="{x0 + _CHART_W - 10}" y="{limit_y - 3:.1f}" class="lt">limit '
        f"{html.escape(limit_text)}</text>"
    )
    return parts


def _chart(mailbox: MailboxSizing, report: SizingReport) -> str:
    labels = [w.window for w in mailbox.windows]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * _CHART_W}" height="{_CHART_H}" '
        f'viewBox="0 0 {2 * _CHART_W} {_CHART_H}" role="img" '
        f'aria-label="messages and bytes by window for {html.escape(mailbox.path)}">'
    ]
    parts += _panel(
        "messages", [w.messages for w in mailbox.windows], report.thresholds.messages,
        labels, 0, int,
    )  # fmt: skip
    parts += _panel(
        "bytes", [w.bytes for w in mailbox.windows], report.thresholds.bytes,
        labels, _CHART_W, None,
    )  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}
.over,.bar.over{fill:#c62828;color:#c62828}.bar{fill:#4a7bb7}
.axis{stroke:#444}.limit{stroke:#c62828;stroke-dasharray:5 3;stroke-width:1.5}
.t{font-weight:bold;font-size:13px}.l{font-size:11px;text-anchor:middle}
.lt{font-size:10px;text-anchor:end;fill:#c62828}.note{color:#555}
"""


def render_html(report: SizingReport) -> str:
    """One self-contained HTML page: tables and an SVG chart per mailbox."""
    esc = html.escape
    limits = report.thresholds
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        "<title>mailcore sync sizing</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Sync sizing</h1>",
        f'<p class="note">At {esc(format_time(report.now))}; limits: more than '
        f"{limits.messages:,} messages or {esc(human_bytes(limits.bytes))} "
        f"({limits.bytes:,} bytes).</p>",
    ]
    if len(report.mailboxes) > 1:
        org = report.org
        body.append(f"<h2>Organisation ({org.mailboxes:,} mailboxes)</h2><table>")
        body.append("<tr><th>window</th><th>mailboxes over a limit</th></tr>")
        for window, count in org.exceeding:
            body.append(f"<tr><td>{esc(window)}</td><td>{count:,}</td></tr>")
        body.append(
            f"</table><p>Largest window keeping {org.share:.0%} of mailboxes under both "
            f"limits: <b>{esc(org.largest_window or 'none')}</b></p>"
        )
    check = report.policy
    verdict = "ok" if check.ok else '<span class="over">problem</span>'
    body.append(
        f"<h2>Policy</h2><p>max_sync_interval <b>{esc(check.max_sync_interval)}</b>, "
        f"default_sync_interval <b>{esc(check.default_sync_interval)}</b>: {verdict}</p><ul>"
    )
    body.extend(f'<li class="over">{esc(text)}</li>' for text in check.problems)
    body.extend(f"<li>{esc(text)}</li>" for text in check.warnings)
    body.append("</ul>")
    for mailbox in report.mailboxes:
        body.append(f"<h2>{esc(mailbox.path)}</h2>")
        body.append(
            f'<p class="note">{esc(mailbox.layout)}, {len(mailbox.folders)} folder(s); '
            f"recommended window: <b>{esc(mailbox.recommended_window or 'none')}</b>"
            + (f"; bad input: {esc(mailbox.bad_input.describe())}" if mailbox.bad_input.total
               else "")
            + "</p>"
        )  # fmt: skip
        body.append(_chart(mailbox, report))
        body.append(
            "<table><tr><th>window</th><th>type</th><th>messages</th><th>bytes</th>"
            "<th>attachments</th><th>limits</th></tr>"
        )
        for w in mailbox.windows:
            css = ' class="over"' if w.exceeds else ""
            body.append(
                f"<tr{css}><td>{esc(w.window)}</td><td>{w.filter_type}</td>"
                f"<td>{w.messages:,}</td><td>{esc(human_bytes(w.bytes))}</td>"
                f"<td>{esc(human_bytes(w.attachment_bytes))}</td>"
                f"<td>{'exceeds' if w.exceeds else 'ok'}</td></tr>"
            )
        body.append("</table>")
    for failure in report.failures:
        body.append(f'<p class="over">Failed: {esc(failure.path)}: {esc(failure.error)}</p>')
    body.append("</body></html>")
    return "\n".join(body) + "\n"
