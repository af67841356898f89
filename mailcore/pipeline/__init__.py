"""The whole job for one message, in one call::

    from mailcore.pipeline import Pipeline

    with Pipeline(load_policy("policy.toml")) as pipeline:
        result = pipeline.outbound(message)       # mark, IRM, sign, encrypt
        result.message                            # the bytes to send
        result.report.to_dict()                   # JSON D: what was done and why
        opened = pipeline.inbound(received)       # decrypt, verify, read marking and rights

The steps, and what the report says of each, are on :class:`Pipeline`.
"""

from mailcore.pipeline._keys import FolderKeyStore, KeyStore, MemoryKeyStore
from mailcore.pipeline._pipeline import Pipeline
from mailcore.pipeline._report import ProcessReport, ProcessResult

__all__ = [
    "FolderKeyStore",
    "KeyStore",
    "MemoryKeyStore",
    "Pipeline",
    "ProcessReport",
    "ProcessResult",
]
