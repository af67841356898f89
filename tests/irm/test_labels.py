"""msip_labels: every real-world variant read, injection refused on write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailcore.errors import MalformedIrm
from mailcore.irm import (
    SensitivityLabel,
    format_msip_labels,
    parse_msip_labels,
    read_labels,
    set_labels,
)
from tests.utils import build_message, header_fields, split_message, unfold

LABEL = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
SITE = "cb46c030-1825-4e81-a295-151c039dbf02"
ACTION = "88124cf5-1340-457d-90e1-0000a9427c99"
# The example of the MIP metadata documentation (reference note §2.3).
DOCUMENTED = (
    f"MSIP_Label_{LABEL}_Enabled=true; MSIP_Label_{LABEL}_SetDate=2018-11-08T21:13:16-0800; "
    f"MSIP_Label_{LABEL}_Method=Privileged; MSIP_Label_{LABEL}_Name=Confidential; "
    f"MSIP_Label_{LABEL}_SiteId={SITE}; MSIP_Label_{LABEL}_ContentBits=2; "
    f"MSIP_Label_{LABEL}_ActionId={ACTION}"
)
EXPECTED = SensitivityLabel(
    label_id=LABEL,
    enabled=True,
    site_id=SITE,
    set_date=datetime(2018, 11, 8, 21, 13, 16, tzinfo=timezone(timedelta(hours=-8))),
    method="Privileged",
    name="Confidential",
    content_bits=2,
    action_id=ACTION,
)

VARIANTS = {
    "documented": DOCUMENTED,
    "no-space": DOCUMENTED.replace("; ", ";"),
    "trailing-semicolon": DOCUMENTED + ";",
    "trailing-semicolon-space": DOCUMENTED + "; ",
    "folded": DOCUMENTED.replace("; ", ";\r\n "),
    "folded-lf": DOCUMENTED.replace("; ", ";\n\t"),
    "reversed": "; ".join(reversed(DOCUMENTED.split("; "))),
    "upper-keys": DOCUMENTED.replace("MSIP_Label_", "MSIP_LABEL_").replace(LABEL, LABEL.upper()),
    "lower-keys": DOCUMENTED.replace("MSIP_Label_", "msip_label_"),
    "spaces-around": DOCUMENTED.replace("=", " = ").replace(";", " ;"),
}


@pytest.mark.parametrize("value", VARIANTS.values(), ids=VARIANTS.keys())
def test_variants(value: str) -> None:
    reading = parse_msip_labels(value, strict=True)
    assert reading.labels == (EXPECTED,)
    assert reading.problems == ()


def test_folding_inside_a_value() -> None:
    # AMD mail on LKML: "..._Name=AMD Official Use\r\n Only-AIP 2.0;"
    value = f"MSIP_Label_{LABEL}_Enabled=true;MSIP_Label_{LABEL}_SiteId={SITE};" + (
        f"MSIP_Label_{LABEL}_Name=AMD Official Use\r\n Only-AIP 2.0;"
    )
    [label] = parse_msip_labels(value).labels
    assert label.name == "AMD Official Use Only-AIP 2.0"


def test_case_of_values() -> None:
    value = f"MSIP_Label_{LABEL}_Enabled=True; MSIP_Label_{LABEL}_Method=standard"
    [label] = parse_msip_labels(value).labels
    assert label.enabled is True
    assert label.method == "Standard"


def test_encrypt_bit() -> None:
    assert SensitivityLabel(LABEL, content_bits=8).encrypts
    assert SensitivityLabel(LABEL, content_bits=0xF).encrypts
    assert not SensitivityLabel(LABEL, content_bits=7).encrypts
    assert not SensitivityLabel(LABEL).encrypts


def test_message_with_legacy_headers_and_justification() -> None:
    message = build_message(
        "From: a@example.com",
        f"msip_label_{LABEL}_enabled: true",
        f"msip_label_{LABEL}_siteid: {SITE}",
        f"msip_label_{LABEL}_name: Confidential",
        "msip_justification: Previous label no longer applies",
    )
    reading = read_labels(message)
    [label] = reading.labels
    assert (label.enabled, label.site_id, label.name) == (True, SITE, "Confidential")
    assert reading.justification == "Previous label no longer applies"


def test_several_header_fields_merge() -> None:
    message = build_message(
        f"msip_labels: MSIP_Label_{LABEL}_Enabled=true",
        f"MSIP_Labels: MSIP_Label_{LABEL}_SiteId={SITE}",
    )
    [label] = read_labels(message).labels
    assert (label.enabled, label.site_id) == (True, SITE)


def test_strict_refuses_a_pair_without_equals() -> None:
    with pytest.raises(MalformedIrm, match="key=value"):
        parse_msip_labels(DOCUMENTED + "; junk", strict=True)
    assert [p.code for p in parse_msip_labels(DOCUMENTED + "; junk").problems] == [
        "label-pair-invalid"
    ]


class TestWriting:
    def test_documented_order(self) -> None:
        text = format_msip_labels([EXPECTED])
        keys = [pair.split("=", 1)[0].rsplit("_", 1)[1] for pair in text.split("; ")]
        assert keys == [
            "Enabled",
            "SiteId",
            "SetDate",
            "Method",
            "Name",
            "ContentBits",
            "ActionId",
        ]
        assert f"MSIP_Label_{LABEL}_SetDate=2018-11-08T21:13:16-0800" in text

    def test_utc_date_with_z(self) -> None:
        label = SensitivityLabel(
            LABEL,
            enabled=True,
            site_id=SITE,
            set_date=datetime(2022, 1, 19, 10, 8, 26, tzinfo=UTC),
        )
        assert "_SetDate=2022-01-19T10:08:26Z" in format_msip_labels([label])

    @pytest.mark.parametrize(
        "name",
        ["a;b", "a\r\nBcc: eve@example.com", "a\nb", "a\x00b", " padded", "n" * 256],
        ids=["semicolon", "crlf", "lf", "nul", "padding", "too-long"],
    )
    def test_refuses_injection(self, name: str) -> None:
        label = SensitivityLabel(LABEL, enabled=True, site_id=SITE, name=name)
        with pytest.raises(MalformedIrm):
            format_msip_labels([label])

    def test_refuses_bad_extra_names(self) -> None:
        for extra in ((("Bad Name", "x"),), (("Name", "x"),), (("X", "1"), ("x", "2"))):
            label = SensitivityLabel(LABEL, enabled=True, site_id=SITE, name="n", extra=extra)
            with pytest.raises(MalformedIrm):
                format_msip_labels([label])

    def test_refuses_duplicate_label(self) -> None:
        with pytest.raises(MalformedIrm, match="twice"):
            format_msip_labels([EXPECTED, EXPECTED])

    def test_set_labels_replaces_old_fields_and_keeps_the_rest(self) -> None:
        message = build_message(
            "From: a@example.com",
            "msip_labels: MSIP_Label_00000000-0000-0000-0000-000000000001_Enabled=true",
            "Subject: Budget",
            f"msip_label_{LABEL}_name: Old",
            body=b"Body\r\n",
        )
        output = set_labels(message, [EXPECTED])
        head, body = split_message(output)
        assert body == b"Body\r\n"
        fields = header_fields(head)
        names = [field.split(b":", 1)[0].decode() for field in fields]
        assert names == ["From", "msip_labels", "Subject"]
        # folded at "; " only (each pair here is longer than a short line,
        # so one pair per line), CRLF kept
        labels_field = fields[1]
        lines = labels_field.split(b"\r\n")[:-1]
        assert len(lines) == 7
        assert all(line.startswith(b" MSIP_Label_") for line in lines[1:])
        assert b"\n" not in labels_field.replace(b"\r\n", b"")
        assert unfold(labels_field) == format_msip_labels([EXPECTED])
        assert read_labels(output).labels == (EXPECTED,)

    def test_set_no_labels_removes_the_header(self) -> None:
        message = build_message("From: a@example.com", f"msip_labels: {DOCUMENTED}")
        assert set_labels(message, []) == build_message("From: a@example.com")
