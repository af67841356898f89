"""``mailcore serve``: the pipeline as an SMTP content filter (after-queue)::

    from mailcore.policy import load_policy
    from mailcore.serve import ContentFilter

    ContentFilter(load_policy("policy.toml")).run()   # until SIGTERM

The MTA hands each message to ``[serve] listen`` (Postfix ``content_filter``);
the filter runs the outbound or inbound pipeline (by the envelope sender's
domain, ``[serve] internal_domains``) and relays the result to ``[serve]
relay``.  It answers 250 only after the next hop accepted the processed
message; a next hop or directory that is down or slow gets 4yz (the MTA
keeps the message and retries); a policy refusal gets 5yz with the reason.
One JSON line per message goes to the log (no content, no key material).

The pipeline runs in ``[serve] workers`` processes (one per core by
default), each building its own pipeline from the policy; a ``pipeline=``
object given by a library caller runs on threads instead (see
:class:`ContentFilter`).
"""

from mailcore.serve._direction import Direction, choose_direction, is_internal
from mailcore.serve._log import MessageLog, MessageRecord
from mailcore.serve._relay import Prepared, Relay, RelayResult, prepare, smtp_data
from mailcore.serve._replies import Reply, reply_for_error
from mailcore.serve._server import ContentFilter

__all__ = [
    "ContentFilter",
    "Direction",
    "MessageLog",
    "MessageRecord",
    "Prepared",
    "Relay",
    "RelayResult",
    "Reply",
    "choose_direction",
    "is_internal",
    "prepare",
    "reply_for_error",
    "smtp_data",
]
