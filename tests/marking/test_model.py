"""The Marking value: ranks, expiry times, text forms and the JSON fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailcore.marking import Caveat, Defect, Marking


class TestRank:
    def test_2024_levels_strictly_increase(self) -> None:
        # EPMS 2024 Table 5 / §0: UNOFFICIAL < OFFICIAL < OFFICIAL:Sensitive
        # < PROTECTED < SECRET < TOP-SECRET.
        levels = [
            "UNOFFICIAL",
            "OFFICIAL",
            "OFFICIAL:Sensitive",
            "PROTECTED",
            "SECRET",
            "TOP-SECRET",
        ]
        ranks = [Marking(sec=level).rank for level in levels]
        assert None not in ranks
        ordered = sorted(rank for rank in ranks if rank is not None)
        assert ranks == ordered and len(set(ranks)) == len(ranks)
        assert ranks[0] == 0

    def test_2012_scale(self) -> None:
        # Reference §4.4: UNOFFICIAL < UNCLASSIFIED < +FOUO < +Sensitive < PROTECTED
        # < CONFIDENTIAL < SECRET < TOP-SECRET.
        chain = [
            Marking(sec="UNOFFICIAL"),
            Marking(sec="UNCLASSIFIED"),
            Marking(sec="UNCLASSIFIED", dlm="For-Official-Use-Only"),
            Marking(sec="UNCLASSIFIED", dlm="Sensitive"),
            Marking(sec="PROTECTED"),
            Marking(sec="CONFIDENTIAL"),
            Marking(sec="SECRET"),
            Marking(sec="TOP-SECRET"),
        ]
        ranks = [m.rank for m in chain]
        assert None not in ranks
        ordered = sorted(rank for rank in ranks if rank is not None)
        assert ranks == ordered and len(set(ranks)) == len(ranks)

    def test_sensitive_subtypes_are_peers(self) -> None:
        ranks = {
            Marking(sec=None, dlm=d).rank
            for d in ("Sensitive", "Sensitive:Personal", "Sensitive:Legal")
        }
        assert len(ranks) == 1

    def test_legacy_mapping(self) -> None:
        # UNCLASSIFIED ~ OFFICIAL; a Sensitive DLM ~ OFFICIAL:Sensitive.
        assert Marking(sec="UNCLASSIFIED").rank == Marking(sec="OFFICIAL").rank
        assert Marking(sec=None, dlm="Sensitive").rank == Marking(sec="OFFICIAL:Sensitive").rank

    def test_no_rank_for_unknown_foreign_or_empty(self) -> None:
        assert Marking(sec="BANANA").rank is None
        assert Marking(sec="OFFICIAL", namespace="acme.example").rank is None
        assert Marking(sec=None).rank is None
        assert Marking(sec="PROTECTED", dlm="Nonsense").rank is None

    def test_namespace_case_does_not_make_it_foreign(self) -> None:
        assert not Marking(sec="OFFICIAL", namespace="GOV.AU").is_foreign
        assert Marking(sec="OFFICIAL", namespace="vic.gov.au").is_foreign


# EPMS 2024 genDate: a date alone means T00:00:00Z.
EXPIRY_TIMES = {
    "date-only": ("2019-07-01", datetime(2019, 7, 1, tzinfo=UTC)),
    "utc-time": ("2019-07-01T12:30:19Z", datetime(2019, 7, 1, 12, 30, 19, tzinfo=UTC)),
    "offset": (
        "2019-07-01T12:00:00+10:00",
        datetime(2019, 7, 1, 12, tzinfo=timezone(timedelta(hours=10))),
    ),
    "fraction": ("2019-07-01T12:00:00.5Z", datetime(2019, 7, 1, 12, 0, 0, 500000, tzinfo=UTC)),
    "no-offset-read-as-utc": (
        "2019-01-07T12:30:19",
        datetime(2019, 1, 7, 12, 30, 19, tzinfo=UTC),
    ),
}


class TestExpiresAt:
    @pytest.mark.parametrize(("text", "moment"), EXPIRY_TIMES.values(), ids=EXPIRY_TIMES.keys())
    def test_dates(self, text: str, moment: datetime) -> None:
        assert Marking(sec="PROTECTED", expires=text, downto="OFFICIAL").expires_at == moment

    @pytest.mark.parametrize("text", ["Election", "2019-13-45", "2019-07-01 noon", "next week"])
    def test_events_have_no_time(self, text: str) -> None:
        assert Marking(sec="PROTECTED", expires=text, downto="OFFICIAL").expires_at is None

    def test_absent(self) -> None:
        assert Marking(sec="PROTECTED").expires_at is None


class TestTextForms:
    FULL = Marking(
        sec="PROTECTED",
        caveats=(Caveat("SH", "CABINET"), Caveat("RI", "AUSTEO")),
        access=("Legal-Privilege",),
        expires="2030-01-01",
        downto="OFFICIAL",
        note="n",
        origin="jo@agency.gov.au",
        version="2024.1",
        namespace="gov.au",
    )

    def test_long_form_in_abnf_order(self) -> None:
        assert self.FULL.header_value() == (
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, CAVEAT=RI:AUSTEO, "
            "ACCESS=Legal-Privilege, EXPIRES=2030-01-01, DOWNTO=OFFICIAL, NOTE=n, "
            "ORIGIN=jo@agency.gov.au"
        )

    def test_medium_form_has_no_long_form_fields(self) -> None:
        # Table 16: protective-mark-medium-form has no VER, NS, NOTE, ORIGIN.
        assert self.FULL.subject_tag() == (
            "[SEC=PROTECTED, CAVEAT=SH:CABINET, CAVEAT=RI:AUSTEO, ACCESS=Legal-Privilege, "
            "EXPIRES=2030-01-01, DOWNTO=OFFICIAL]"
        )
        assert self.FULL.medium_form() == self.FULL.subject_tag()[1:-1]

    def test_dlm_after_sec(self) -> None:
        marking = Marking(sec="PROTECTED", dlm="Sensitive:Legal", version="2012.3")
        assert marking.subject_tag() == "[SEC=PROTECTED, DLM=Sensitive:Legal]"

    def test_str_is_the_header_value(self) -> None:
        assert str(self.FULL) == self.FULL.header_value()

    def test_caveat_str(self) -> None:
        assert str(Caveat("RI", "REL/AUS/NZL")) == "RI:REL/AUS/NZL"


class TestValue:
    def test_frozen(self) -> None:
        with pytest.raises(AttributeError):  # immutable (FrozenInstanceError is one too)
            Marking(sec="OFFICIAL").sec = "SECRET"  # type: ignore[misc]

    def test_replace_returns_a_copy(self) -> None:
        original = Marking(sec="OFFICIAL")
        changed = original.replace(sec="PROTECTED")
        assert (original.sec, changed.sec) == ("OFFICIAL", "PROTECTED")

    def test_defects_do_not_take_part_in_equality(self) -> None:
        clean = Marking(sec="OFFICIAL")
        flagged = clean.replace(defects=(Defect("value_case", "x"),))
        assert clean == flagged
        assert hash(clean) == hash(flagged)

    def test_to_dict(self) -> None:
        assert TestTextForms.FULL.to_dict() == {
            "version": "2024.1",
            "namespace": "gov.au",
            "sec": "PROTECTED",
            "dlm": None,
            "caveats": ["SH:CABINET", "RI:AUSTEO"],
            "access": ["Legal-Privilege"],
            "expires": "2030-01-01",
            "downto": "OFFICIAL",
            "note": "n",
            "origin": "jo@agency.gov.au",
        }

    def test_defect_str(self) -> None:
        assert str(Defect("truncated", "cut off")) == "truncated: cut off"
