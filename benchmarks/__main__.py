"""``python -m benchmarks [--quick] [--json FILE]``."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from benchmarks._harness import Row, run
from benchmarks.directory import BENCHMARKS as DIRECTORY
from benchmarks.export import BENCHMARKS as EXPORT
from benchmarks.irm import BENCHMARKS as IRM
from benchmarks.marking import BENCHMARKS as MARKING
from benchmarks.pipeline import BENCHMARKS as PIPELINE
from benchmarks.serve import BENCHMARKS as SERVE
from benchmarks.sizing import BENCHMARKS as SIZING
from benchmarks.smime import BENCHMARKS as SMIME


def _table(rows: list[Row]) -> str:
    header = ("benchmark", "mailcore ops/s", "peer", "peer ops/s", "ratio", "goal", "met")
    lines = [header]
    for row in rows:
        met = "-" if row.met is None else ("yes" if row.met else "NO")
        lines.append(
            (
                row.name,
                f"{row.ours:,.0f}",
                row.peer_name,
                f"{row.peer:,.0f}",
                f"{row.ratio:.2f}x",
                row.goal,
                met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smoke run: seconds, no goal checks")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(
        MARKING + SMIME + DIRECTORY + IRM + EXPORT + SIZING + PIPELINE + SERVE,
        quick=args.quick,
    )
    print(_table(rows))
    if args.json:
        document = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "quick": args.quick,
            "rows": [row.to_dict() for row in rows],
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
