"""One LDAP search on an open (and bound) socket, within a deadline.

ldap3 opens, secures and binds the connection; the search itself is one
``sendall`` of a pre-encoded request and big ``recv`` calls decoded as they
arrive.  The socket may be plain TCP or TLS (``ldaps://`` or after
StartTLS): both offer ``sendall``/``recv``/``settimeout``.
"""

from __future__ import annotations

import socket
import ssl
import time

from mailcore.directory._protocol import ConnectionClosed, SearchResponseReader
from mailcore.errors import DirectoryUnavailable

__all__ = ["exchange"]

_CHUNK = 256 * 1024  # a whole 50-entry answer usually fits in one or two reads


def exchange(
    sock: socket.socket | ssl.SSLSocket,
    request: bytes,
    reader: SearchResponseReader,
    timeout: float,
) -> SearchResponseReader:
    """Send ``request``, feed the answer to ``reader`` until SearchResultDone.

    ``timeout`` seconds bound the whole exchange, not each read.  Raises
    :class:`ConnectionClosed` when the server ended the connection (end of
    stream, reset, Notice of Disconnection), else
    :class:`~mailcore.DirectoryUnavailable` (timeout, malformed answer).
    """
    deadline = time.monotonic() + timeout
    try:
        sock.settimeout(timeout)
        sock.sendall(request)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            data = sock.recv(_CHUNK)
            if not data:
                raise ConnectionClosed("LDAP search failed: the server closed the connection")
            if reader.feed(data):
                # Leave the socket as ldap3 expects it for the final unbind.
                sock.settimeout(timeout)
                return reader
    except TimeoutError:
        raise DirectoryUnavailable(
            f"LDAP search failed: no complete answer within {timeout:g} s"
        ) from None
    except OSError as error:
        # Reset, broken pipe, TLS failure: the connection is gone (on a
        # pooled one, quite possibly closed by the server while idle).
        raise ConnectionClosed(f"LDAP search failed: {_text(error)}") from None


def _text(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
