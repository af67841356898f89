"""Filter templates compiled to BER (RFC 4511 §4.5.1), checked against pyasn1 and ldap3.

The property tests build a filter *structure*, write it as RFC 4515 text the
way an administrator would, let mailcore parse and encode it, then decode
mailcore's bytes with pyasn1 (ldap3's ASN.1 module) and compare with the
structure they started from.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ldap3.operation.search import compile_filter, parse_filter
from pyasn1.codec.ber import encoder

from mailcore.directory import FilterTemplate, escape_filter_value
from mailcore.errors import PolicyError
from mailcore.policy import load_policy
from tests.directory.wire import Tree, decode_filter

# -- strategies: a filter as (tree, RFC 4515 text) -------------------------------------

descriptors = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,12}", fullmatch=True)
numeric_oids = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,4}){1,4}", fullmatch=True)
attributes = st.tuples(
    st.one_of(descriptors, numeric_oids),
    st.lists(st.from_regex(r"[A-Za-z0-9-]{1,8}", fullmatch=True), max_size=2),
).map(lambda parts: ";".join([parts[0], *parts[1]]))


def _hex_all(value: bytes) -> str:
    return "".join(f"\\{octet:02x}" for octet in value)


# An assertion value as (octets, RFC 4515 text): Unicode text with the
# specials escaped, or any octets written entirely as \XX escapes.
values = st.one_of(
    st.text(max_size=12).map(lambda text: (text.encode(), escape_filter_value(text))),
    st.binary(max_size=8).map(lambda octets: (octets, _hex_all(octets))),
)
nonempty_values = values.filter(lambda value: value[0] != b"")
spaces = st.sampled_from(["", "", "", " ", "\n  "])

Part = tuple[Tree, str]


@st.composite
def items(draw: st.DrawFn) -> Part:
    kind = draw(
        st.sampled_from(["eq", "ge", "le", "approx", "present", "substrings", "extensible"])
    )
    attribute = draw(attributes)
    if kind == "present":
        return ("present", attribute), f"({attribute}=*)"
    if kind == "substrings":
        initial = draw(st.none() | nonempty_values)
        middle = draw(st.lists(nonempty_values, max_size=3))
        final = draw(st.none() | nonempty_values)
        if initial is None and not middle and final is None:
            middle = [(b"x", "x")]
        pieces: list[tuple[str, bytes]] = []
        if initial is not None:
            pieces.append(("initial", initial[0]))
        pieces += [("any", value[0]) for value in middle]
        if final is not None:
            pieces.append(("final", final[0]))
        text = (
            (initial[1] if initial else "")
            + "*"
            + "".join(value[1] + "*" for value in middle)
            + (final[1] if final else "")
        )
        return ("substrings", attribute, tuple(pieces)), f"({attribute}={text})"
    octets, text = draw(values)
    if kind == "extensible":
        rule = draw(st.none() | numeric_oids | descriptors)
        dn = draw(st.booleans())
        name = draw(st.none() | attributes) if rule is not None else attribute
        left = (name or "") + (":dn" if dn else "") + (f":{rule}" if rule else "")
        return ("extensible", rule, name, octets, dn), f"({left}:={text})"
    operator, name = {
        "eq": ("=", "equalityMatch"),
        "ge": (">=", "greaterOrEqual"),
        "le": ("<=", "lessOrEqual"),
        "approx": ("~=", "approxMatch"),
    }[kind]
    return (name, attribute, octets), f"({attribute}{operator}{text})"


def _combine(kind: str, parts: list[Part], space: str) -> Part:
    if kind == "not":
        (tree, text) = parts[0]
        return ("not", tree), f"(!{space}{text}{space})"
    symbol = "&" if kind == "and" else "|"
    return (kind, tuple(tree for tree, _ in parts)), (
        f"({symbol}" + "".join(space + text for _, text in parts) + f"{space})"
    )


plain_filters = st.recursive(
    items(),
    lambda inner: st.one_of(
        st.tuples(st.just("not"), st.lists(inner, min_size=1, max_size=1), spaces),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, max_size=3), spaces),
    ).map(lambda drawn: _combine(*drawn)),
    max_leaves=8,
)

prefixes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz:.-_ ", max_size=6)


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, str, bytes, object]:
    """(template text, attribute, prefix octets, builder of the tree for an address)."""
    # The address attribute is a name (answers are mapped back by it).
    attribute = draw(descriptors)
    prefix = draw(prefixes)
    layers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["and", "or", "not"]),
                st.lists(plain_filters, max_size=2),
                st.lists(plain_filters, max_size=2),
                spaces,
            ),
            max_size=3,
        )
    )
    text = f"({attribute}={prefix}{{address}})"
    for kind, before, after, space in layers:
        if kind == "not":
            text = f"(!{space}{text})"
        else:
            symbol = "&" if kind == "and" else "|"
            text = (
                f"({symbol}"
                + "".join(t for _, t in before)
                + space
                + text
                + "".join(t for _, t in after)
                + ")"
            )

    def tree_for(address: bytes) -> Tree:
        tree: Tree = ("equalityMatch", attribute, prefix.encode() + address)
        for kind, before, after, _ in layers:
            if kind == "not":
                tree = ("not", tree)
            else:
                tree = (
                    kind,
                    (*(t for t, _ in before), tree, *(t for t, _ in after)),
                )
        return tree

    return text, attribute, prefix.encode(), tree_for


addresses = st.text(min_size=1, max_size=20)


class TestEncoding:
    @settings(max_examples=60, deadline=None)
    @given(templates(), st.lists(addresses, min_size=1, max_size=4))
    def test_template_encodes_the_structure_it_was_written_from(
        self, template: tuple[str, str, bytes, object], wanted: list[str]
    ) -> None:
        text, attribute, _, tree_for = template
        parsed = FilterTemplate.parse(text)
        assert parsed.attribute == attribute
        decoded = decode_filter(parsed.ber_for_addresses(wanted))
        trees = [tree_for(address.encode()) for address in wanted]  # type: ignore[operator]
        assert decoded == (trees[0] if len(wanted) == 1 else ("or", tuple(trees)))

    @settings(max_examples=60, deadline=None)
    @given(plain_filters)
    def test_every_filter_form(self, part: Part) -> None:
        tree, text = part
        template = FilterTemplate.parse(f"(&{text}(mail={{address}}))")
        decoded = decode_filter(template.ber_for_addresses(["a@example.com"]))
        assert decoded == ("and", (tree, ("equalityMatch", "mail", b"a@example.com")))

    @settings(max_examples=60, deadline=None)
    @given(
        st.sampled_from(
            [
                "(mail={address})",
                "(proxyAddresses=smtp:{address})",
                "(&(objectClass=person)(mail={address}))",
                "(&(objectClass=inetOrgPerson)(!(cn=retired*))(|(mail={address})(o=x)))",
            ]
        ),
        st.lists(
            # ldap3 strips what str.strip() calls whitespace around a value
            st.text(st.characters(codec="utf-8"), min_size=1).filter(lambda t: t == t.strip()),
            min_size=1,
            max_size=5,
        ),
    )
    def test_same_as_ldap3_compiling_the_escaped_text(self, text: str, wanted: list[str]) -> None:
        # ldap3 turns the RFC 4515 text form (every address escaped) into
        # BER its own way; the trees must be the same.
        template = FilterTemplate.parse(text)
        node = parse_filter(template.for_addresses(wanted), None, False, False, None, False)
        theirs = bytes(encoder.encode(compile_filter(node.elements[0])))
        assert decode_filter(template.ber_for_addresses(wanted)) == decode_filter(theirs)

    def test_specials_are_octets_not_syntax(self) -> None:
        template = FilterTemplate.parse("(mail={address})")
        decoded = decode_filter(template.ber_for_addresses(["*@example.com", "a\x00)(b"]))
        assert decoded == (
            "or",
            (
                ("equalityMatch", "mail", b"*@example.com"),
                ("equalityMatch", "mail", b"a\x00)(b"),
            ),
        )

    def test_known_bytes(self) -> None:
        # RFC 4511 §4.5.1 by hand: equalityMatch [3] { "mail", "a@x" }, and an
        # "or" [1] of two; dnAttributes TRUE is FF (§5.1).
        template = FilterTemplate.parse("(mail={address})")
        one = bytes.fromhex("a30b") + b"\x04\x04mail" + b"\x04\x03a@x"
        two = bytes.fromhex("a30b") + b"\x04\x04mail" + b"\x04\x03b@x"
        assert template.ber_for_addresses(["a@x"]) == one
        assert template.ber_for_addresses(["a@x", "b@x"]) == b"\xa1\x1a" + one + two
        extensible = FilterTemplate.parse("(&(cn:dn:=q)(mail={address}))")
        assert extensible.ber_for_addresses(["a@x"]) == (
            b"\xa0\x19" + b"\xa9\x0a\x82\x02cn\x83\x01q\x84\x01\xff" + one
        )

    def test_long_values_use_long_lengths(self) -> None:
        template = FilterTemplate.parse("(mail={address})")
        address = "x" * 300 + "@example.com"
        assert decode_filter(template.ber_for_addresses([address] * 3)) == (
            "or",
            (("equalityMatch", "mail", address.encode()),) * 3,
        )

    def test_surrogates_become_octets_not_an_error(self) -> None:
        template = FilterTemplate.parse("(mail={address})")
        decoded = decode_filter(template.ber_for_addresses(["a\udc80@x"]))
        assert decoded == ("equalityMatch", "mail", b"a\xed\xb2\x80@x")


class TestTemplateErrors:
    @pytest.mark.parametrize(
        ("template", "complaint"),
        [
            ("(mail={address})x", "text after the filter"),
            ("(&(cn=a)(mail={address})", "'\\)' expected"),
            ("(&(c n=a)(mail={address}))", "not an attribute description"),
            ("(&(cn=a\\zz)(mail={address}))", "two hex digits"),
            ("(&(cn=a\\4)(mail={address}))", "two hex digits"),
            ("(&(cn=**)(mail={address}))", "no substring"),
            ("(&(cn~=a*)(mail={address}))", "unescaped '\\*'"),
            ("(&(:=x)(mail={address}))", "needs an attribute or a matching rule"),
            ("(&(cn:1.2:3.4:=x)(mail={address}))", "too many ':'"),
            ("(&(cn:x_y:=x)(mail={address}))", "not a matching rule"),
            ("(&(cn)(mail={address}))", "'=' expected"),
            ("(&cn=a(mail={address}))", "'\\)' expected"),
            ("(&(cn=\x00)(mail={address}))", "unescaped"),
            ("(&(mail={address})(cn=x{address}))", "needs one"),
            ("(mail=*{address})", "needs one"),
            ("(mail>={address})", "needs one"),
            ("(!(a=1)(mail={address}))", "'\\)' expected"),
            ("(" * 70 + "mail={address}" + ")" * 70, "'\\(' inside an assertion"),
            ("(&" * 70 + "(mail={address})" + ")" * 70, "nested too deeply"),
        ],
    )
    def test_refused_with_the_reason(self, template: str, complaint: str) -> None:
        with pytest.raises(ValueError, match=complaint):
            FilterTemplate.parse(template)

    def test_position_is_given(self) -> None:
        with pytest.raises(ValueError, match=r"at character 8\b"):
            FilterTemplate.parse("(&(cn=a\\zz)(mail={address}))")

    def test_whitespace_between_components_and_absolute_filters(self) -> None:
        template = FilterTemplate.parse(" (& (|) (&)\n (mail={address}) ) ")
        assert decode_filter(template.ber_for_addresses(["a@x"])) == (
            "and",
            (("or", ()), ("and", ()), ("equalityMatch", "mail", b"a@x")),
        )

    def test_policy_refuses_an_unparseable_template(self, tmp_path: object) -> None:
        from pathlib import Path

        path = Path(str(tmp_path)) / "policy.toml"
        path.write_text('[directory]\nfilter = "(&(c n=x)(mail={address}))"\n')
        with pytest.raises(PolicyError, match=re.escape("directory.filter")):
            load_policy(path)
