"""The ``[serve]`` policy section: ``mailcore serve``'s settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailcore.errors import PolicyError
from mailcore.policy import ServePolicy, load_policy, policy_from_mapping

WritePolicy = Callable[[str], Path]


def serve(**values: Any) -> ServePolicy:
    return policy_from_mapping({"serve": values}).serve


def test_defaults_and_immutability() -> None:
    policy = ServePolicy()
    assert policy.listen_address == ("127.0.0.1", 10025)
    assert policy.relay_address == ("127.0.0.1", 10026)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.listen = "0.0.0.0:25"  # type: ignore[misc]


def test_full_section(write_policy: WritePolicy) -> None:
    path = write_policy(
        """
[serve]
listen = "[::1]:10025"
relay = "mta.example.org:10026"
direction = "auto"
internal_domains = ["Agency.gov.au", ".cabinet.gov.au"]
max_message_size = "20MiB"
max_recipients = 100
max_sessions = 10
workers = 2
max_line_length = 2000
session_timeout = 60
process_timeout = 30.5
relay_timeout = 20
shutdown_timeout = 90
hostname = "filter.agency.gov.au"
tls_certificate = "tls/server.pem"
tls_key = "tls/server.key"
require_tls = true
"""
    )
    policy = load_policy(path).serve
    assert policy.listen_address == ("::1", 10025)
    assert policy.relay_address == ("mta.example.org", 10026)
    assert policy.internal_domains == ("agency.gov.au", ".cabinet.gov.au")
    assert policy.max_message_size == 20 * 1024 * 1024
    assert (policy.max_recipients, policy.max_sessions, policy.workers) == (100, 10, 2)
    assert policy.max_line_length == 2000
    assert policy.process_timeout == 30.5 and isinstance(policy.session_timeout, float)
    assert policy.require_tls is True and policy.tls_key == "tls/server.key"


def test_a_single_domain_may_be_a_string() -> None:
    assert serve(internal_domains="agency.gov.au").internal_domains == ("agency.gov.au",)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"listen": "127.0.0.1"}, "serve.listen"),
        ({"listen": "127.0.0.1:99999"}, "serve.listen"),
        ({"relay": "host:port"}, "serve.relay"),
        ({"relay": "a b:25"}, "serve.relay"),
        ({"direction": "sideways"}, "serve.direction"),
        ({"internal_domains": ["bad domain"]}, "serve.internal_domains"),
        ({"internal_domains": [1]}, "serve.internal_domains"),
        ({"max_message_size": "lots"}, "serve.max_message_size"),
        ({"max_message_size": 100}, "serve.max_message_size"),
        ({"max_recipients": 0}, "serve.max_recipients"),
        ({"max_sessions": True}, "serve.max_sessions"),
        ({"workers": -1}, "serve.workers"),
        ({"max_line_length": 998}, "serve.max_line_length"),
        ({"relay_timeout": 0}, "serve.relay_timeout"),
        ({"process_timeout": "1m"}, "serve.process_timeout"),
        ({"hostname": "evil\r\nRCPT TO:<x@y>"}, "serve.hostname"),
        ({"hostname": ".example.org"}, "serve.hostname"),
        ({"tls_certificate": "cert.pem"}, "serve.tls_key"),
        ({"tls_key": "key.pem"}, "serve.tls_certificate"),
        ({"require_tls": True}, "serve.require_tls"),
        ({"require_tls": "yes"}, "serve.require_tls"),
        ({"port": 25}, "serve.port"),
    ],
)
def test_bad_values_name_the_key(values: dict[str, Any], key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        serve(**values)
    assert caught.value.key == key
    assert key.split(".")[1] in str(caught.value)


def test_address_property_checks_overrides() -> None:
    # A value set in code (dataclasses.replace) is checked when it is used.
    policy = dataclasses.replace(ServePolicy(), relay="nowhere")
    with pytest.raises(PolicyError, match=r"serve\.relay must be HOST:PORT"):
        _ = policy.relay_address
