"""The policy file loader (contract §4)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mailcore
from mailcore.errors import MalformedInput, MarkingListError, PolicyError
from mailcore.irm import DO_NOT_FORWARD, ENCRYPT_ONLY
from mailcore.marking import parse_subject_tag
from mailcore.policy import (
    ClassificationPolicy,
    DirectoryPolicy,
    ExportPolicy,
    IrmPolicy,
    Policy,
    ServePolicy,
    SmimePolicy,
    SyncPolicy,
    load_policy,
    policy_from_mapping,
)

WritePolicy = Callable[[str], Path]

# Every key of every section and its default.  The contract fixes some
# (classification.enabled and irm.enabled default to false); the rest are
# the project's choices, pinned so that a change is deliberate.
PINNED_DEFAULTS: dict[str, Any] = {
    "classification.enabled": False,  # contract §4 "(default false)"
    "classification.namespace": "gov.au",  # EPMS 2024 §5
    "classification.version": "2024.1",  # the current EPMS release
    "classification.default": "UNOFFICIAL",
    "classification.downgrade": "reject",  # ISM-1089: no downgrade on reply
    "smime.sign": False,
    "smime.encrypt": False,
    "smime.on_missing_certificate": "send_unencrypted",
    "smime.on_directory_error": "reject",
    "smime.cipher": "auto",
    "smime.oaep": False,
    "smime.digest": "sha256",
    "smime.encrypt_to_sender": True,  # the sent copy stays readable
    "smime.key_store": "keys",
    "smime.key_password_env": "MAILCORE_KEY_PASSWORD",
    "smime.trust_anchors": (),
    "directory.source": "file",  # `make demo` runs with no server
    "directory.server": ("ldap://127.0.0.1:389",),
    "directory.base_dn": "",
    "directory.anonymous": True,
    "directory.file": "directory.ldif",
    "directory.bind_dn": "",
    "directory.password_env": "MAILCORE_LDAP_PASSWORD",
    "directory.starttls": False,
    "directory.ca_file": "",
    "directory.filter": "(mail={address})",
    "directory.batch_size": 50,
    "directory.size_limit": 1000,
    "directory.time_limit": 10,
    "directory.connect_timeout": 5.0,
    "directory.search_timeout": 10.0,
    "directory.pool_size": 4,
    "directory.cache_ttl": 3600.0,
    "directory.negative_cache_ttl": 300.0,
    "directory.trust_anchors": (),
    "directory.intermediates": (),
    "directory.crls": (),
    "directory.min_rsa_bits": 2048,  # NIST SP 800-131A: RSA under 2048 bits is disallowed
    "irm.enabled": False,  # contract §4 "(default Off)"
    "irm.templates": (DO_NOT_FORWARD, ENCRYPT_ONLY),  # the two built-in MS-ASRM templates
    "export.contacts": False,
    "export.contact_fields": "all",
    "export.calendar": "off",  # issue 6: Export Calendar defaults to Off
    "export.calendar_placeholder": "Busy",
    "sync.max_sync_interval": "all",
    "sync.default_sync_interval": "3d",
    "sync.max_messages": 18000,
    "sync.max_bytes": 600 * 1024 * 1024,  # "600MiB"
    "sync.month_days": 31,  # the "1 month" window (FilterType 5)
    "serve.listen": "127.0.0.1:10025",  # Postfix's content_filter example port
    "serve.relay": "127.0.0.1:10026",  # and its re-injection port
    "serve.direction": "auto",
    "serve.internal_domains": (),
    "serve.max_message_size": 50 * 1024 * 1024,  # above Postfix's 10,240,000 default
    "serve.max_recipients": 1000,  # Postfix smtpd_recipient_limit
    "serve.max_sessions": 20,
    "serve.workers": 0,  # the number of CPUs
    "serve.max_line_length": 1000,  # RFC 5321 §4.5.3.1.6
    "serve.session_timeout": 300.0,  # RFC 5321 §4.5.3.2.7
    "serve.process_timeout": 120.0,
    "serve.relay_timeout": 60.0,
    "serve.shutdown_timeout": 150.0,
    "serve.hostname": "",
    "serve.tls_certificate": "",
    "serve.tls_key": "",
    "serve.require_tls": False,
}
SECTIONS: dict[str, type] = {
    "classification": ClassificationPolicy,
    "smime": SmimePolicy,
    "directory": DirectoryPolicy,
    "irm": IrmPolicy,
    "export": ExportPolicy,
    "sync": SyncPolicy,
    "serve": ServePolicy,
}


class TestDefaults:
    def test_every_default(self) -> None:
        policy = Policy()
        actual = {
            f"{section}.{field.name}": getattr(getattr(policy, section), field.name)
            for section in SECTIONS
            for field in dataclasses.fields(getattr(policy, section))
            if field.name != "markings"
        }
        assert actual == PINNED_DEFAULTS

    def test_pinned_table_covers_every_key(self) -> None:
        # A new key must get a pinned default here (and in the contract).
        keys = {
            f"{section}.{field.name}"
            for section, cls in SECTIONS.items()
            for field in dataclasses.fields(cls)
        }
        assert keys - {"classification.markings"} == set(PINNED_DEFAULTS)
        assert {f.name for f in dataclasses.fields(Policy)} - {"source", "sha256"} == set(SECTIONS)

    def test_default_markings_list(self) -> None:
        markings = Policy().classification.markings
        assert markings.version == "2024.1"
        # EPMS 2024 Table 5: every level up to PROTECTED is offered, and no
        # entry is above PROTECTED (a mobile deployment is not SECRET-rated).
        levels = {entry.marking.sec for entry in markings}
        assert levels == {"UNOFFICIAL", "OFFICIAL", "OFFICIAL:Sensitive", "PROTECTED"}
        assert markings.entries[0].display == "UNOFFICIAL"
        assert markings.find("UNOFFICIAL") is not None
        for entry in markings:
            # each value is a valid 2024.1 subject marking, strictly
            assert parse_subject_tag(entry.value, strict=True, version="2024.1") == entry.marking

    def test_default_is_in_the_default_list(self) -> None:
        settings = Policy().classification
        assert settings.markings.find(settings.default) is not None

    def test_policy_is_immutable(self) -> None:
        policy = Policy()
        with pytest.raises(dataclasses.FrozenInstanceError):
            policy.sync.max_messages = 1  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            policy.classification = ClassificationPolicy()  # type: ignore[misc]

    def test_missing_file_is_an_error_not_the_defaults(self, tmp_path: Path) -> None:
        # A typo must never turn a gateway into a plaintext relay (issue 17.4).
        with pytest.raises(PolicyError, match="does not exist") as caught:
            load_policy(tmp_path / "absent.toml")
        assert caught.value.where == str(tmp_path / "absent.toml")

    def test_file_is_named_and_hashed(self, write_policy: Callable[[str], Path]) -> None:
        text = "[smime]\nsign = true\n"
        path = write_policy(text)
        policy = load_policy(path)
        assert policy.source == str(path)
        assert policy.sha256 == hashlib.sha256(text.encode()).hexdigest()
        assert load_policy(None).sha256 is None

    def test_deeply_nested_toml_is_malformed(self, write_policy: Callable[[str], Path]) -> None:
        # tomllib recurses once per level: a RecursionError must not escape.
        with pytest.raises(PolicyError, match="nested too deeply"):
            load_policy(write_policy("x = " + "[" * 100_000 + "]" * 100_000 + "\n"))

    def test_oversized_file_is_refused(self, write_policy: Callable[[str], Path]) -> None:
        with pytest.raises(PolicyError, match="larger than"):
            load_policy(write_policy("# " + "x" * (1 << 20) + "\n"))

    def test_a_folder_is_not_a_policy_file(self, tmp_path: Path) -> None:
        with pytest.raises(PolicyError, match="not a regular file"):
            load_policy(tmp_path)

    def test_unreadable_file_is_an_error(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.toml"
        path.write_text("[smime]\nsign = true\n", encoding="utf-8")
        path.chmod(0)
        try:
            if os.access(path, os.R_OK):  # root reads any file: use a path that fails to open
                path = tmp_path / "loop.toml"
                path.symlink_to(path)
            with pytest.raises(PolicyError):
                load_policy(path)
        finally:
            (tmp_path / "policy.toml").chmod(0o600)

    def test_no_file_means_defaults(self) -> None:
        assert load_policy(None) == Policy()

    def test_empty_file_means_defaults(self, write_policy: WritePolicy) -> None:
        assert load_policy(write_policy("")) == Policy()

    def test_empty_sections_mean_defaults(self, write_policy: WritePolicy) -> None:
        text = "".join(f"[{name}]\n" for name in SECTIONS)
        assert load_policy(write_policy(text)) == Policy()

    def test_exported_from_the_package(self) -> None:
        assert mailcore.Policy is Policy
        assert mailcore.load_policy is load_policy


class TestContractExample:
    def test_the_contract_example_loads(self, write_policy: WritePolicy) -> None:
        # Contract §4 (the markings list completed; "..." is not a value).
        text = """
[classification]
enabled  = true
namespace = "gov.au"
version  = "2012.3"
default  = "UNOFFICIAL"
markings = "UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED,SEC=PROTECTED;"

[smime]
sign = true
encrypt = true
on_missing_certificate = "send_unencrypted"
on_directory_error = "reject"

[directory]
source = "ldap"
server = "ldap://127.0.0.1:389"
base_dn = "dc=example,dc=com"
anonymous = true
file = "directory.ldif"

[irm]
enabled = false

[export]
contacts = true
calendar = "meeting_time_location"

[sync]
max_sync_interval = "all"
default_sync_interval = "3d"
max_messages = 18000
max_bytes = "600MiB"
"""
        policy = load_policy(write_policy(text))
        assert policy.classification.enabled is True
        assert policy.classification.version == "2012.3"
        assert [e.display for e in policy.classification.markings] == ["UNOFFICIAL", "PROTECTED"]
        assert policy.smime.sign is True and policy.smime.encrypt is True
        assert policy.directory.source == "ldap"
        assert policy.directory.server == ("ldap://127.0.0.1:389",)
        assert policy.directory.base_dn == "dc=example,dc=com"
        assert policy.export.contacts is True
        assert policy.sync.max_bytes == 629145600

    def test_server_list_kept_in_order(self, write_policy: WritePolicy) -> None:
        # Contract §4: several servers are a list, tried in order.
        path = write_policy('[directory]\nserver = ["ldaps://b.example", "ldap://a.example"]\n')
        assert load_policy(path).directory.server == ("ldaps://b.example", "ldap://a.example")


class TestUnknownNames:
    def test_unknown_section(self, write_policy: WritePolicy) -> None:
        with pytest.raises(PolicyError, match="colour") as caught:
            load_policy(write_policy("[colour]\nred = 1\n"))
        assert caught.value.key == "colour"

    @pytest.mark.parametrize("section", list(SECTIONS))
    def test_unknown_key(self, write_policy: WritePolicy, section: str) -> None:
        with pytest.raises(PolicyError, match="'frobnicate'") as caught:
            load_policy(write_policy(f"[{section}]\nfrobnicate = 1\n"))
        assert caught.value.key == f"{section}.frobnicate"

    def test_typo_of_a_real_key(self, write_policy: WritePolicy) -> None:
        with pytest.raises(PolicyError, match="max_byte"):
            load_policy(write_policy('[sync]\nmax_byte = "1MB"\n'))

    def test_section_must_be_a_table(self) -> None:
        with pytest.raises(PolicyError, match="classification") as caught:
            policy_from_mapping({"classification": 3})
        assert caught.value.key == "classification"


WRONG_TYPES = {
    "enabled-string": ("classification", "enabled", '"yes"'),
    "enabled-int": ("classification", "enabled", "1"),
    "namespace-int": ("classification", "namespace", "3"),
    "version-not-yyyy-n": ("classification", "version", '"2024"'),
    "version-int": ("classification", "version", "2024"),
    "markings-int": ("classification", "markings", "5"),
    "markings-list": ("classification", "markings", '["UNOFFICIAL,SEC=UNOFFICIAL"]'),
    "downgrade-unknown": ("classification", "downgrade", '"maybe"'),
    "sign-string": ("smime", "sign", '"true"'),
    "on-missing-unknown": ("smime", "on_missing_certificate", '"explode"'),
    "on-directory-error-unknown": ("smime", "on_directory_error", '"retry"'),
    "cipher-unknown": ("smime", "cipher", '"des3"'),
    "digest-unknown": ("smime", "digest", '"md5"'),
    "source-unknown": ("directory", "source", '"http"'),
    "server-not-ldap": ("directory", "server", '"http://a.example"'),
    "server-empty-list": ("directory", "server", "[]"),
    "server-int": ("directory", "server", "389"),
    "anonymous-string": ("directory", "anonymous", '"no"'),
    "irm-enabled-int": ("irm", "enabled", "0"),
    "calendar-unknown": ("export", "calendar", '"everything"'),
    "max-messages-string": ("sync", "max_messages", '"many"'),
    "max-messages-bool": ("sync", "max_messages", "true"),
    "max-messages-negative": ("sync", "max_messages", "-1"),
    "max-bytes-word": ("sync", "max_bytes", '"lots"'),
    "max-bytes-negative": ("sync", "max_bytes", "-5"),
    "max-bytes-bool": ("sync", "max_bytes", "false"),
    "window-unknown": ("sync", "max_sync_interval", '"5y"'),
    "default-window-unknown": ("sync", "default_sync_interval", '"2d"'),
}


@pytest.mark.parametrize(("section", "key", "value"), WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_wrong_value_names_the_key(
    write_policy: WritePolicy, section: str, key: str, value: str
) -> None:
    with pytest.raises(PolicyError, match=key) as caught:
        load_policy(write_policy(f"[{section}]\n{key} = {value}\n"))
    assert caught.value.key == f"{section}.{key}"


class TestMarkings:
    def test_each_entry_validated_at_load(self, write_policy: WritePolicy) -> None:
        text = (
            '[classification]\nmarkings = "UNOFFICIAL,SEC=UNOFFICIAL;'
            'PROTECTED,SEC=PROTECTED;BAD,SEC=BANANA;"\n'
        )
        with pytest.raises(PolicyError) as caught:
            load_policy(write_policy(text))
        message = str(caught.value)
        assert "BAD,SEC=BANANA" in message
        assert "entry 3" in message
        assert caught.value.key == "classification.markings"

    def test_bad_entry_raises_marking_list_error(self, write_policy: WritePolicy) -> None:
        text = '[classification]\nmarkings = "BAD,SEC=BANANA"\n'
        with pytest.raises(MarkingListError):
            load_policy(write_policy(text))

    def test_entries_checked_against_the_configured_version(
        self, write_policy: WritePolicy
    ) -> None:
        # OFFICIAL does not exist in EPMS 2012.3 (§2.11.4).
        text = '[classification]\nversion = "2012.3"\nmarkings = "OFFICIAL,SEC=OFFICIAL"\n'
        with pytest.raises(PolicyError, match="OFFICIAL,SEC=OFFICIAL") as caught:
            load_policy(write_policy(text))
        assert caught.value.key == "classification.markings"

    def test_dlm_refused_under_2024(self, write_policy: WritePolicy) -> None:
        # DLMs were withdrawn in EPMS 2018.1.
        text = '[classification]\nmarkings = "PROTECTED+Sensitive,SEC=PROTECTED,DLM=Sensitive"\n'
        with pytest.raises(PolicyError, match="PROTECTED\\+Sensitive"):
            load_policy(write_policy(text))

    def test_default_must_be_in_the_list(self, write_policy: WritePolicy) -> None:
        text = (
            '[classification]\nmarkings = "UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED,SEC=PROTECTED"\n'
            'default = "SECRET"\n'
        )
        with pytest.raises(PolicyError, match="SECRET") as caught:
            load_policy(write_policy(text))
        assert caught.value.key == "classification.default"

    def test_default_outside_the_default_list(self, write_policy: WritePolicy) -> None:
        with pytest.raises(PolicyError, match="TOP-SECRET"):
            load_policy(write_policy('[classification]\ndefault = "TOP-SECRET"\n'))

    def test_default_from_the_list(self, write_policy: WritePolicy) -> None:
        text = (
            '[classification]\nmarkings = "UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED,SEC=PROTECTED"\n'
            'default = "PROTECTED"\n'
        )
        assert load_policy(write_policy(text)).classification.default == "PROTECTED"

    def test_default_without_unofficial_is_the_first_entry(
        self, write_policy: WritePolicy
    ) -> None:
        text = '[classification]\nmarkings = "OFFICIAL,SEC=OFFICIAL;PROTECTED,SEC=PROTECTED"\n'
        settings = load_policy(write_policy(text)).classification
        assert settings.markings.find(settings.default) is not None
        assert settings.default == "OFFICIAL"

    def test_version_2012_gets_a_2012_default_list(self, write_policy: WritePolicy) -> None:
        settings = load_policy(
            write_policy('[classification]\nversion = "2012.3"\n')
        ).classification
        assert settings.markings.version == "2012.3"
        # 2012.3 has DLMs and UNCLASSIFIED; it has no OFFICIAL.
        assert any(entry.marking.dlm for entry in settings.markings)
        assert "UNCLASSIFIED" in {entry.marking.sec for entry in settings.markings}
        assert "OFFICIAL" not in {entry.marking.sec for entry in settings.markings}


class TestDowngrade:
    @pytest.mark.parametrize("value", ["reject", "warn", "allow"])
    def test_accepted_values(self, write_policy: WritePolicy, value: str) -> None:
        path = write_policy(f'[classification]\ndowngrade = "{value}"\n')
        assert load_policy(path).classification.downgrade == value

    def test_default_is_reject(self) -> None:
        assert Policy().classification.downgrade == "reject"

    @pytest.mark.parametrize("value", ["Reject", "deny", ""])
    def test_other_values_refused(self, write_policy: WritePolicy, value: str) -> None:
        with pytest.raises(PolicyError, match="downgrade"):
            load_policy(write_policy(f'[classification]\ndowngrade = "{value}"\n'))


class TestFileErrors:
    def test_invalid_toml(self, write_policy: WritePolicy) -> None:
        path = write_policy("[classification\nenabled = = true\n")
        with pytest.raises(PolicyError) as caught:
            load_policy(path)
        assert isinstance(caught.value, MalformedInput)
        assert isinstance(caught.value, ValueError)
        assert str(path) in str(caught.value)
        assert "TOML" in str(caught.value)

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.toml"
        path.write_bytes(b'[classification]\nnamespace = "\xff"\n')
        with pytest.raises(PolicyError):
            load_policy(path)

    def test_a_folder_is_not_a_policy(self, tmp_path: Path) -> None:
        with pytest.raises(PolicyError, match=str(tmp_path)):
            load_policy(tmp_path)

    def test_duplicate_key_is_invalid_toml(self, write_policy: WritePolicy) -> None:
        with pytest.raises(PolicyError):
            load_policy(write_policy("[irm]\nenabled = true\nenabled = false\n"))


MAX_BYTES = {
    "mebibytes": ('"600MiB"', 629145600),
    "megabytes": ('"600MB"', 600000000),
    "plain-int": ("629145600", 629145600),
    "plain-string": ('"1000"', 1000),
}


@pytest.mark.parametrize(("value", "expected"), MAX_BYTES.values(), ids=MAX_BYTES.keys())
def test_sync_max_bytes(write_policy: WritePolicy, value: str, expected: int) -> None:
    assert load_policy(write_policy(f"[sync]\nmax_bytes = {value}\n")).sync.max_bytes == expected


def test_sync_values_kept(write_policy: WritePolicy) -> None:
    text = '[sync]\nmax_sync_interval = "1m"\ndefault_sync_interval = "1w"\nmax_messages = 5\n'
    sync = load_policy(write_policy(text)).sync
    assert (sync.max_sync_interval, sync.default_sync_interval, sync.max_messages) == (
        "1m",
        "1w",
        5,
    )


def test_source_is_recorded_but_not_compared(write_policy: WritePolicy) -> None:
    path = write_policy("")
    policy = load_policy(path)
    assert policy.source == str(path)
    assert policy == Policy()


class TestReviewFixes:
    @pytest.mark.parametrize("namespace", ["gov.au, SEC=TOP-SECRET", "", "gov.au\r\nBcc: x"])
    def test_namespace_must_be_domain_like(self, namespace: str) -> None:
        with pytest.raises(PolicyError, match=r"classification\.namespace"):
            policy_from_mapping({"classification": {"namespace": namespace}})

    def test_default_window_not_longer_than_max(self) -> None:
        with pytest.raises(PolicyError, match="default_sync_interval"):
            policy_from_mapping(
                {"sync": {"max_sync_interval": "1d", "default_sync_interval": "all"}}
            )

    @pytest.mark.parametrize("size", ["600iB", 1.5, "MB"])
    def test_bad_sizes_are_policy_errors(self, size: object) -> None:
        with pytest.raises(PolicyError, match="max_bytes"):
            policy_from_mapping({"sync": {"max_bytes": size}})
