"""``mailcore directory lookup ADDRESS...`` (JSON C)."""

from __future__ import annotations

import argparse

from mailcore._address import is_simple_address
from mailcore.cli._runtime import EXIT_OK, UsageError, write_json
from mailcore.cli._smime import _time
from mailcore.directory import open_directory
from mailcore.policy import Policy

__all__ = ["add_directory_commands"]


def add_directory_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``directory`` command group."""
    group = commands.add_parser("directory", help="recipients' certificates")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    lookup = sub.add_parser(
        "lookup", help="find each address's encryption certificate per the policy (JSON C)"
    )
    lookup.add_argument("addresses", nargs="+", metavar="ADDRESS")
    lookup.add_argument("--at", metavar="TIME", help="judge validity at this ISO 8601 time")
    lookup.set_defaults(handler=_lookup)


def _lookup(args: argparse.Namespace, policy: Policy) -> int:
    # An argument that is not an address cannot be "not found": it was never
    # a question the directory could answer (RFC 5322 §3.4.1 addr-spec).
    for address in args.addresses:
        if not is_simple_address(address.strip()):
            raise UsageError(f"{address!r} is not an e-mail address (local-part@domain)")
    # A directory that cannot answer raises DirectoryUnavailable: exit 3.
    with open_directory(policy) as directory:
        report = directory.lookup(args.addresses, at=_time(args.at))
    write_json(report.to_dict())
    return EXIT_OK
