"""Marking outgoing messages, replies and forwards (apply_marking)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from mailcore.errors import (
    MailcoreError,
    MalformedMessage,
    MarkingDowngrade,
    MarkingError,
    MarkingNotOffered,
    MarkingSyntaxError,
)
from mailcore.marking import (
    Caveat,
    Marking,
    apply_marking,
    parse_header,
    parse_subject_tag,
    read_marking,
)
from mailcore.policy import Policy, policy_from_mapping
from tests.utils import build_message, field_name, header_fields, split_message, unfold

AUTHOR = "jo.citizen@agency.gov.au"

# A message with the awkward things real mail has: a folded Received with a
# tab, odd spacing, a field without a space after the colon, an old marking
# (twice, one lowercase and folded), two subject markings, and a body with
# lines that look like header fields.
AWKWARD = (
    b"Received: from a.example (a.example [192.0.2.1])\r\n"
    b"\tby b.example; Tue, 1 Jan 2030 00:00:00 +0000\r\n"
    b"From: Jo Citizen <jo.citizen@agency.gov.au>\r\n"
    b"To:   bob@example.com ,\r\n"
    b"      carol@example.com\r\n"
    b"x-protective-marking: VER=2024.1, NS=gov.au,\r\n"
    b" SEC=OFFICIAL, ORIGIN=old@agency.gov.au\r\n"
    b"Subject: [SEC=OFFICIAL] Re: Budget  plans [SEC=UNOFFICIAL]\r\n"
    b"X-Odd:no-space   \r\n"
    b"X-Protective-Marking: SEC=UNOFFICIAL\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Dear team,\r\n"
    b"From: mallory@example.com\r\n"
    b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=SECRET, ORIGIN=m@example.com\r\n"
    b"Subject: [SEC=TOP-SECRET]\r\n"
    b"\r\n"
    b"\xff\xfe binary tail without final line break"
)
MARKING_FIELDS = {"x-protective-marking", "subject"}

# ABNF order (EPMS 2024 Table 16) of the long form's tags.
CANONICAL_ORDER = [
    "VER",
    "NS",
    "SEC",
    "DLM",
    "CAVEAT",
    "ACCESS",
    "EXPIRES",
    "DOWNTO",
    "NOTE",
    "ORIGIN",
]


def _fields_named(message: bytes, name: str) -> list[bytes]:
    header, _ = split_message(message)
    return [f for f in header_fields(header) if field_name(f).lower() == name.lower()]


def _tags(header_value: str) -> list[str]:
    return [part.split("=", 1)[0] for part in header_value.split(", ")]


def _policy(**classification: object) -> Policy:
    return policy_from_mapping({"classification": classification})


class TestBytesKept:
    @pytest.mark.parametrize("marking", ["UNOFFICIAL", "PROTECTED", "PROTECTED CABINET"])
    def test_body_unchanged(self, marking: str) -> None:
        out = apply_marking(AWKWARD, marking).message
        assert split_message(out)[1] == split_message(AWKWARD)[1]

    def test_unrelated_fields_byte_identical_and_in_order(self) -> None:
        out = apply_marking(AWKWARD, "PROTECTED").message
        before = [
            f
            for f in header_fields(split_message(AWKWARD)[0])
            if field_name(f).lower() not in MARKING_FIELDS
        ]
        after = [
            f
            for f in header_fields(split_message(out)[0])
            if field_name(f).lower() not in MARKING_FIELDS
        ]
        assert after == before
        assert b"\tby b.example; Tue, 1 Jan 2030" in before[0]  # the fold survived

    def test_nothing_but_marking_fields_changes(self) -> None:
        out = apply_marking(AWKWARD, "PROTECTED").message
        names = [field_name(f).lower() for f in header_fields(split_message(out)[0])]
        assert names.count("x-protective-marking") == 1
        assert names.count("subject") == 1
        assert len(names) == len(header_fields(split_message(AWKWARD)[0])) - 1

    def test_lf_only_stays_lf_only(self) -> None:
        lf = AWKWARD.replace(b"\r\n", b"\n")
        out = apply_marking(lf, "PROTECTED CABINET").message
        header, body = split_message(out)
        assert b"\r" not in header
        assert body == split_message(lf)[1]

    def test_crlf_stays_crlf(self) -> None:
        out = apply_marking(AWKWARD, "PROTECTED").message
        header, _ = split_message(out)
        assert header.count(b"\n") == header.count(b"\r\n")

    def test_non_ascii_subject_text_kept(self) -> None:
        data = build_message(f"From: {AUTHOR}", "Subject: Straße café [SEC=OFFICIAL]")
        out = apply_marking(data, "PROTECTED").message
        [subject] = _fields_named(out, "Subject")
        assert unfold(subject) == "Straße café [SEC=PROTECTED]"


class TestOneMarking:
    def test_exactly_one_header_and_one_subject_marking(self) -> None:
        out = apply_marking(AWKWARD, "PROTECTED").message
        read = read_marking(out, strict=True)
        assert len(read.header_markings) == 1
        assert len(read.subject_markings) == 1
        assert read.consistent
        assert read.marking is not None and read.marking.sec == "PROTECTED"

    def test_subject_keeps_its_text_and_ends_with_the_tag(self) -> None:
        out = apply_marking(AWKWARD, "PROTECTED").message
        [subject] = _fields_named(out, "Subject")
        # Reference §9 item 4: strip every marking, append exactly one.
        assert unfold(subject) == "Re: Budget  plans [SEC=PROTECTED]"

    def test_header_value(self) -> None:
        out = apply_marking(AWKWARD, "PROTECTED CABINET").message
        [field] = _fields_named(out, "X-Protective-Marking")
        assert field.startswith(b"X-Protective-Marking: ")
        assert unfold(field) == (
            f"VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, ORIGIN={AUTHOR}"
        )

    def test_no_subject_gets_one(self) -> None:
        out = apply_marking(build_message(f"From: {AUTHOR}"), "OFFICIAL").message
        [subject] = _fields_named(out, "Subject")
        assert unfold(subject) == "[SEC=OFFICIAL]"

    def test_thread_topic_follows_the_subject(self) -> None:
        # Reference §9 item 2: rewrite Thread-Topic consistently.
        data = build_message(
            f"From: {AUTHOR}",
            "Subject: RE: Budget [SEC=OFFICIAL]",
            "Thread-Topic: Budget [SEC=OFFICIAL]",
        )
        out = apply_marking(data, "PROTECTED").message
        [topic] = _fields_named(out, "Thread-Topic")
        assert unfold(topic) == "Budget [SEC=PROTECTED]"

    def test_marking_inside_an_encoded_word(self) -> None:
        data = build_message(
            f"From: {AUTHOR}", "Subject: =?UTF-8?Q?Plans_f=C3=BCr_X_[SEC=OFFICIAL]?="
        )
        out = apply_marking(data, "PROTECTED").message
        [subject] = _fields_named(out, "Subject")
        raw = unfold(subject)
        # The new tag is plain ASCII after the text, never encoded (§9 item 3).
        assert raw.endswith(" [SEC=PROTECTED]")
        assert "OFFICIAL" not in raw
        read = read_marking(out)
        assert [s.marking.sec for s in read.subject_markings if s.marking] == ["PROTECTED"]
        assert "marking_in_encoded_word" not in read.defect_codes()

    def test_encoded_words_outside_the_marking_kept_verbatim(self) -> None:
        data = build_message(f"From: {AUTHOR}", "Subject: =?UTF-8?Q?Stra=C3=9Fe?= [SEC=OFFICIAL]")
        out = apply_marking(data, "PROTECTED").message
        [subject] = _fields_named(out, "Subject")
        assert unfold(subject) == "=?UTF-8?Q?Stra=C3=9Fe?= [SEC=PROTECTED]"


class TestHeaderForm:
    FULL = Marking(
        sec="PROTECTED",
        caveats=(
            Caveat("SH", "CABINET"),
            Caveat("C", "SOMEVERYLONGCODEWORD"),
            Caveat("RI", "AUSTEO"),
        ),
        access=("Legal-Privilege", "Personal-Privacy", "Legislative-Secrecy"),
        expires="2030-01-01",
        downto="OFFICIAL",
    )
    POLICY = _policy(
        markings="UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED,SEC=PROTECTED;SECRET,SEC=SECRET"
    )

    def test_folded_after_comma_space_within_78(self) -> None:
        out = apply_marking(
            build_message(f"From: {AUTHOR}"), self.FULL, policy=self.POLICY
        ).message
        [field] = _fields_named(out, "X-Protective-Marking")
        lines = field.decode("ascii").split("\r\n")[:-1]
        assert len(lines) > 1
        for line in lines:
            assert len(line) <= 78
        for line in lines[:-1]:
            assert line.endswith(",")
        for line in lines[1:]:
            assert line.startswith(" ") and line[1] != " "

    def test_canonical_order(self) -> None:
        out = apply_marking(
            build_message(f"From: {AUTHOR}"), self.FULL, policy=self.POLICY
        ).message
        [field] = _fields_named(out, "X-Protective-Marking")
        tags = _tags(unfold(field))
        assert tags == sorted(tags, key=CANONICAL_ORDER.index)
        assert tags[:3] == ["VER", "NS", "SEC"] and tags[-1] == "ORIGIN"

    def test_regex_order_original_written_in_abnf_order(self) -> None:
        # The 2024 regex form puts ACCESS after EXPIRES/DOWNTO; the ABNF
        # (definitive, §7) before.  A reply inheriting it writes ABNF order.
        original = build_message(
            "From: boss@agency.gov.au",
            "Subject: Plan",
            "X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=2030-01-01, "
            "DOWNTO=OFFICIAL, ACCESS=Legal-Privilege, ORIGIN=boss@agency.gov.au",
        )
        out = apply_marking(
            build_message(f"From: {AUTHOR}", "Subject: Re: Plan"), originals=[original]
        )
        [field] = _fields_named(out.message, "X-Protective-Marking")
        assert unfold(field) == (
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, ACCESS=Legal-Privilege, EXPIRES=2030-01-01, "
            "DOWNTO=OFFICIAL, ORIGIN=boss@agency.gov.au"
        )

    def test_reads_back_strictly(self) -> None:
        out = apply_marking(
            build_message(f"From: {AUTHOR}"), self.FULL, policy=self.POLICY
        ).message
        [field] = _fields_named(out, "X-Protective-Marking")
        parsed = parse_header(unfold(field), strict=True)
        assert parsed == self.FULL.replace(version="2024.1", namespace="gov.au", origin=AUTHOR)

    def test_policy_version_and_namespace_written(self) -> None:
        policy = _policy(version="2012.3", default="UNCLASSIFIED")
        out = apply_marking(build_message(f"From: {AUTHOR}"), policy=policy)
        assert out.marking.version == "2012.3"
        assert out.marking.sec == "UNCLASSIFIED"
        [field] = _fields_named(out.message, "X-Protective-Marking")
        assert unfold(field).startswith("VER=2012.3, NS=gov.au, SEC=UNCLASSIFIED, ")


class TestIdempotent:
    @pytest.mark.parametrize("marking", [None, "OFFICIAL", "PROTECTED CABINET"])
    def test_apply_twice_is_apply_once(self, marking: str | None) -> None:
        once = apply_marking(AWKWARD, marking).message
        assert apply_marking(once, marking).message == once

    def test_already_marked_message_unchanged(self) -> None:
        once = apply_marking(build_message(f"From: {AUTHOR}", "Subject: Hi"), "PROTECTED").message
        again = apply_marking(once, "PROTECTED")
        assert again.message is once or again.message == once


class TestInput:
    def test_email_message(self) -> None:
        message = EmailMessage()
        message["From"] = f"Jo <{AUTHOR}>"
        message["To"] = "bob@example.com"
        message["Subject"] = "Hi"
        message.set_content("hello\n")
        out = apply_marking(message, "OFFICIAL")
        read = read_marking(out.message, strict=True)
        assert read.marking is not None and read.marking.sec == "OFFICIAL"
        assert read.marking.origin == AUTHOR
        assert split_message(out.message)[1] == b"hello\n"

    @pytest.mark.parametrize(
        "sender",
        ["undisclosed-recipients:;", "Jo Citizen", '"jo smith"@agency.gov.au', "<>"],
        ids=["group", "no-address", "quoted-local-part", "empty-address"],
    )
    def test_from_without_a_plain_address(self, sender: str) -> None:
        # ORIGIN is a simple-email (Table 13); the author must have one.
        with pytest.raises(MalformedMessage, match="From"):
            apply_marking(build_message(f"From: {sender}", "Subject: x"), "OFFICIAL")

    def test_no_from(self) -> None:
        with pytest.raises(MalformedMessage):
            apply_marking(build_message("Subject: x"), "OFFICIAL")

    def test_explicit_origin_used(self) -> None:
        out = apply_marking(
            build_message("From: Jo Citizen", "Subject: x"), "OFFICIAL", origin=AUTHOR
        )
        assert out.marking.origin == AUTHOR

    def test_origin_with_line_break_refused(self) -> None:
        with pytest.raises(MarkingSyntaxError):
            apply_marking(
                build_message(f"From: {AUTHOR}"),
                "OFFICIAL",
                origin="a@b.example\r\nBcc: v@x.example",
            )

    def test_marking_value_with_line_break_refused(self) -> None:
        bad = Marking(sec="PROTECTED", caveats=(Caveat("C", "X\r\nBcc: v@x.example"),))
        with pytest.raises(MarkingSyntaxError):
            apply_marking(build_message(f"From: {AUTHOR}"), bad)

    def test_unknown_marking_refused(self) -> None:
        with pytest.raises(MarkingSyntaxError, match="BANANA"):
            apply_marking(build_message(f"From: {AUTHOR}"), "SEC=BANANA")

    def test_marking_above_the_list_refused(self) -> None:
        # ISM-0272: not above what the system offers (default list tops at PROTECTED).
        with pytest.raises(MarkingNotOffered):
            apply_marking(build_message(f"From: {AUTHOR}"), "SEC=SECRET")

    def test_valid_value_not_in_the_list(self) -> None:
        out = apply_marking(build_message(f"From: {AUTHOR}"), "SEC=PROTECTED, CAVEAT=RI:AUSTEO")
        assert out.marking.caveats == (Caveat("RI", "AUSTEO"),)

    def test_white_space_codeword_accepted_like_the_parser_does(self) -> None:
        marking = Marking(sec="PROTECTED", caveats=(Caveat("C", " "), Caveat("SH", "CABINET")))
        assert parse_subject_tag(marking.subject_tag(), strict=True) == marking
        out = apply_marking(build_message(f"From: {AUTHOR}"), marking)
        assert out.marking.caveats == marking.caveats

    def test_default_from_the_policy(self) -> None:
        out = apply_marking(build_message(f"From: {AUTHOR}"))
        assert out.marking.sec == "UNOFFICIAL"
        assert out.inherited is None

    def test_header_only_message(self) -> None:
        out = apply_marking(
            b"From: " + AUTHOR.encode() + b"\r\nSubject: x\r\n", "OFFICIAL"
        ).message
        read = read_marking(out, strict=True)
        assert read.source == "both"

    def test_header_only_message_without_final_line_break(self) -> None:
        out = apply_marking(b"From: " + AUTHOR.encode() + b"\r\nSubject: x", "OFFICIAL").message
        assert split_message(out)[1] == b""
        assert len(_fields_named(out, "X-Protective-Marking")) == 1


# -- replies and forwards -------------------------------------------------------

ORIGINAL = build_message(
    "From: Sam Minister <sam.minister@cabinet.gov.au>",
    "Subject: Budget [SEC=PROTECTED, CAVEAT=SH:CABINET]",
    "X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET,\n"
    " ORIGIN=sam.minister@cabinet.gov.au",
)
REPLY = build_message(f"From: {AUTHOR}", "Subject: RE: Budget [SEC=PROTECTED, CAVEAT=SH:CABINET]")


class TestReply:
    def test_defaults_to_the_original_marking(self) -> None:
        # ISM-1089 / Citrix: the reply defaults to the original's marking,
        # and ORIGIN (who classified it) is preserved (EPMS §2.1).
        out = apply_marking(REPLY, originals=[ORIGINAL])
        assert out.marking.sec == "PROTECTED"
        assert out.marking.caveats == (Caveat("SH", "CABINET"),)
        assert out.marking.origin == "sam.minister@cabinet.gov.au"
        assert out.inherited is not None and out.inherited.sec == "PROTECTED"
        [subject] = _fields_named(out.message, "Subject")
        assert unfold(subject) == "RE: Budget [SEC=PROTECTED, CAVEAT=SH:CABINET]"

    def test_upgrade_keeps_the_original_restrictions(self) -> None:
        policy = _policy(markings="PROTECTED,SEC=PROTECTED;SECRET,SEC=SECRET")
        out = apply_marking(REPLY, "SECRET", policy=policy, originals=[ORIGINAL])
        assert out.marking.sec == "SECRET"
        assert Caveat("SH", "CABINET") in out.marking.caveats

    def test_same_level_without_the_caveat_keeps_it(self) -> None:
        out = apply_marking(REPLY, "PROTECTED", originals=[ORIGINAL])
        assert out.marking.caveats == (Caveat("SH", "CABINET"),)

    def test_downgrade_rejected_by_default(self) -> None:
        with pytest.raises(MarkingDowngrade) as caught:
            apply_marking(REPLY, "OFFICIAL", originals=[ORIGINAL])
        assert "PROTECTED" in caught.value.original
        assert caught.value.requested == "SEC=OFFICIAL"

    def test_downgrade_warned(self) -> None:
        out = apply_marking(
            REPLY, "OFFICIAL", policy=_policy(downgrade="warn"), originals=[ORIGINAL]
        )
        assert out.marking.sec == "OFFICIAL"
        assert len(out.warnings) == 1
        assert "OFFICIAL" in out.warnings[0]

    def test_downgrade_allowed(self) -> None:
        out = apply_marking(
            REPLY, "OFFICIAL", policy=_policy(downgrade="allow"), originals=[ORIGINAL]
        )
        assert out.marking.sec == "OFFICIAL"
        assert out.warnings == ()
        assert out.marking.origin == AUTHOR

    def test_unmarked_original_means_the_policy_default(self) -> None:
        original = build_message("From: a@agency.gov.au", "Subject: Budget")
        unmarked_reply = build_message(f"From: {AUTHOR}", "Subject: RE: Budget")
        out = apply_marking(unmarked_reply, originals=[original])
        assert out.marking.sec == "UNOFFICIAL"
        assert out.inherited is None

    def test_no_marking_chosen_never_lowers_the_message_itself(self) -> None:
        # The default fills in for unmarked mail only: REPLY already carries
        # PROTECTED//CABINET, which stays (ISM-1089 spirit).
        original = build_message("From: a@agency.gov.au", "Subject: Budget")
        out = apply_marking(REPLY, originals=[original])
        assert (out.marking.sec, out.marking.caveats) == ("PROTECTED", (Caveat("SH", "CABINET"),))

    def test_explicit_lower_marking_on_a_marked_message_is_warned(self) -> None:
        out = apply_marking(REPLY, "OFFICIAL")
        assert out.marking.sec == "OFFICIAL"
        assert len(out.warnings) == 1 and "lower than the message" in out.warnings[0]

    def test_unjudgeable_own_marking_needs_a_choice(self) -> None:
        cut = build_message(f"From: {AUTHOR}", "Subject: RE: Budget [SEC=PROTEC")
        with pytest.raises(MarkingError):
            apply_marking(cut)
        assert apply_marking(cut, "PROTECTED").marking.sec == "PROTECTED"

    def test_foreign_original_cannot_be_judged(self) -> None:
        original = build_message(
            "From: a@acme.example",
            "Subject: x",
            "X-Protective-Marking: VER=1.0, NS=acme.example, SEC=x-42, ORIGIN=a@acme.example",
        )
        with pytest.raises(MarkingError):
            apply_marking(REPLY, "OFFICIAL", originals=[original])
        out = apply_marking(
            REPLY, "OFFICIAL", policy=_policy(downgrade="warn"), originals=[original]
        )
        assert out.warnings

    def test_several_originals_combined(self) -> None:
        # ISM-0270: highest SEC, union of caveats and ACCESS.
        second = build_message(
            "From: x@agency.gov.au",
            "Subject: A [SEC=OFFICIAL:Sensitive, ACCESS=Legal-Privilege]",
        )
        third = build_message(
            "From: y@agency.gov.au",
            "Subject: B [SEC=SECRET, CAVEAT=RI:AUSTEO, ACCESS=Personal-Privacy]",
        )
        policy = _policy(markings="UNOFFICIAL,SEC=UNOFFICIAL;SECRET,SEC=SECRET")
        out = apply_marking(REPLY, policy=policy, originals=[ORIGINAL, second, third])
        assert out.marking.sec == "SECRET"
        assert set(out.marking.caveats) == {Caveat("SH", "CABINET"), Caveat("RI", "AUSTEO")}
        assert set(out.marking.access) == {"Legal-Privilege", "Personal-Privacy"}
        read = read_marking(out.message, strict=True)
        assert read.consistent

    def test_original_with_a_non_ascii_note(self) -> None:
        original = (
            b"From: a@agency.gov.au\r\nSubject: x\r\n"
            b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=caf\xe9, "
            b"ORIGIN=a@agency.gov.au\r\n\r\nbody\r\n"
        )
        out = apply_marking(
            build_message(f"From: {AUTHOR}", "Subject: Re: x"), originals=[original]
        )
        assert out.marking.sec == "PROTECTED"
        [field] = _fields_named(out.message, "X-Protective-Marking")
        assert parse_header(unfold(field), strict=True).sec == "PROTECTED"

    def test_inherited_marking_above_the_policy_refused(self) -> None:
        # ISM-0272: not even an inherited marking may exceed the list.
        secret = build_message("From: y@agency.gov.au", "Subject: B [SEC=SECRET]")
        with pytest.raises(MarkingNotOffered):
            apply_marking(REPLY, originals=[secret])

    @pytest.mark.parametrize(
        ("legacy", "sec", "access", "caveats"),
        [
            (
                "SEC=UNCLASSIFIED, DLM=Sensitive:Legal",
                "OFFICIAL:Sensitive",
                ("Legal-Privilege",),
                (),
            ),
            (
                "SEC=UNCLASSIFIED, DLM=Sensitive:Personal",
                "OFFICIAL:Sensitive",
                ("Personal-Privacy",),
                (),
            ),
            ("SEC=UNCLASSIFIED", "OFFICIAL", (), ()),
            ("DLM=Sensitive:Cabinet", "PROTECTED", (), (Caveat("SH", "CABINET"),)),
        ],
        ids=["legal", "personal", "unclassified", "cabinet"],
    )
    def test_legacy_original_carried_into_2024(
        self, legacy: str, sec: str, access: tuple[str, ...], caveats: tuple[Caveat, ...]
    ) -> None:
        # Reference §4.4: the PSPF 2018 transition mapping.
        original = build_message(
            "From: gw@old.agency.gov.au",
            "Subject: Old",
            f"X-Protective-Marking: VER=2012.3, NS=gov.au, {legacy}, ORIGIN=gw@old.agency.gov.au",
        )
        out = apply_marking(
            REPLY.replace(b" [SEC=PROTECTED, CAVEAT=SH:CABINET]", b""), originals=[original]
        )
        assert (out.marking.sec, out.marking.access, out.marking.caveats) == (sec, access, caveats)
        assert out.marking.dlm is None
        assert out.marking.version == "2024.1"


def test_errors_are_mailcore_errors() -> None:
    for call in (
        lambda: apply_marking(b"", "OFFICIAL"),
        lambda: apply_marking(build_message(f"From: {AUTHOR}"), "nonsense"),
        lambda: apply_marking(REPLY, "OFFICIAL", originals=[ORIGINAL]),
    ):
        with pytest.raises(MailcoreError):
            call()
