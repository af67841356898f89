"""The exception tree (contract §3)."""

from __future__ import annotations

import inspect

import pytest

import mailcore
import mailcore.errors as errors


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    ]


class TestHierarchy:
    @pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
    def test_every_class_derives_from_mailcore_error(self, cls: type[BaseException]) -> None:
        assert issubclass(cls, mailcore.MailcoreError)

    def test_all_lists_every_class(self) -> None:
        assert {c.__name__ for c in _error_classes()} == set(errors.__all__)

    def test_top_level_exports_every_error(self) -> None:
        for name in errors.__all__:
            assert getattr(mailcore, name) is getattr(errors, name)

    def test_malformed_input_is_a_value_error(self) -> None:
        # Contract §3: malformed input raises MalformedInput, also a ValueError.
        assert issubclass(mailcore.MalformedInput, ValueError)

    @pytest.mark.parametrize(
        "cls",
        [
            errors.PolicyError,
            errors.MalformedMessage,
            errors.MarkingSyntaxError,
            errors.MarkingListError,
            errors.VectorFormatError,
        ],
        ids=lambda c: c.__name__,
    )
    def test_input_errors_are_malformed_input(self, cls: type[BaseException]) -> None:
        assert issubclass(cls, mailcore.MalformedInput)
        assert issubclass(cls, ValueError)

    def test_marking_list_error_is_a_policy_error(self) -> None:
        # A bad markings list is a bad policy file: callers catching
        # PolicyError must see it.
        assert issubclass(errors.MarkingListError, errors.PolicyError)

    @pytest.mark.parametrize(
        "cls",
        [errors.MarkingDowngrade, errors.MarkingNotOffered],
        ids=lambda c: c.__name__,
    )
    def test_refusals_on_the_merits_are_not_malformed_input(
        self, cls: type[BaseException]
    ) -> None:
        # Exit code 1 (refused), not 2 (malformed): contract §5.
        assert issubclass(cls, errors.MarkingError)
        assert not issubclass(cls, errors.MalformedInput)

    def test_directory_unavailable_is_neither(self) -> None:
        assert not issubclass(errors.DirectoryUnavailable, errors.MalformedInput)
        assert not issubclass(errors.DirectoryUnavailable, errors.MarkingError)


class TestMessages:
    def test_where_prefixes_the_message(self) -> None:
        error = errors.MalformedInput("is not valid", where="policy.toml")
        assert str(error) == "policy.toml: is not valid"
        assert error.detail == "is not valid"
        assert error.where == "policy.toml"

    def test_without_where(self) -> None:
        error = errors.MalformedMessage("the message is empty")
        assert str(error) == "the message is empty"
        assert error.where is None

    def test_policy_error_keeps_the_key(self) -> None:
        error = errors.PolicyError("bad", key="sync.max_bytes", where="p.toml")
        assert error.key == "sync.max_bytes"
        assert "p.toml" in str(error)

    def test_marking_syntax_error_keeps_defects(self) -> None:
        error = errors.MarkingSyntaxError("bad", defects=("truncated",))
        assert error.defects == ("truncated",)

    def test_downgrade_keeps_both_markings(self) -> None:
        error = errors.MarkingDowngrade(
            "lower", original="SEC=PROTECTED", requested="SEC=OFFICIAL"
        )
        assert (error.original, error.requested) == ("SEC=PROTECTED", "SEC=OFFICIAL")

    def test_catchable_as_value_error(self) -> None:
        with pytest.raises(ValueError, match="cut off"):
            raise errors.MarkingSyntaxError("the marking is cut off")
