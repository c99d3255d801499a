"""Config dataclasses rebuilt from JSON, each value checked against its field's annotation.

A ``config.json`` is read back by the config classes themselves (``from_dict``); this is the one
place where what JSON gave is compared with what the dataclass declares, so that a damaged file (a
string where a size belongs, ``true`` for a layer count, ``3.5`` layers) is refused with the field,
the expected type and the given value, before anything is built from it. Ranges (a size of at least
1, a probability below 1) stay with each dataclass's ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["FieldError", "from_json", "check_value"]

T = TypeVar("T")


class FieldError(ValueError):
    """A JSON value that does not fit its field: ``field`` is its dotted path, ``reason`` the rest."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason

    def inside(self, parent: str) -> FieldError:
        """The same error seen from the object holding this one at ``parent``."""
        return FieldError(f"{parent}.{self.field}" if self.field else parent, self.reason)


def _name(hint: Any) -> str:
    """How an annotation reads in a message: ``int``, ``float | None``, ``tuple[str, ...]``."""
    if isinstance(hint, type) and not typing.get_args(hint):
        return "null" if hint is type(None) else hint.__name__
    return str(hint).replace("typing.", "")


def _given(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 60 else text


def check_value(value: Any, hint: Any, field: str = "") -> Any:
    """``value`` (as ``json.load`` gives it) as the annotation ``hint`` declares it, or a
    :class:`FieldError` naming ``field``, the expected type and the given value.

    JSON has no tuples and no bools apart from ints, so: a list becomes a tuple where a tuple is
    declared; ``true`` is never an ``int`` nor a ``float``; an ``int`` is accepted (as a float) where
    a ``float`` is declared, a float never where an ``int`` is.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    wrong = FieldError(field, f"expected {_name(hint)}, got {_given(value)}")
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = [option for option in args if option is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if len(options) == 1:  # ``X | None`` given a value: X's own message (a range a dataclass refused...)
            return check_value(value, options[0], field)
        for option in args:
            try:
                return check_value(value, option, field)
            except FieldError as error:
                if error.field != field:  # the value had the option's shape but a part of it was wrong
                    raise
        raise wrong
    if hint is type(None):
        if value is None:
            return None
        raise wrong
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise wrong
        try:
            return hint.from_dict(value) if hasattr(hint, "from_dict") else from_json(hint, value)
        except FieldError as error:
            raise error.inside(field) from None
        except (TypeError, ValueError) as error:
            raise FieldError(field, str(error)) from None
    if origin is tuple or origin is list:
        if not isinstance(value, (list, tuple)):
            raise wrong
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis) and len(args) != len(value):
            raise wrong
        items = args[:1] * len(value) if origin is list or args[1:] == (Ellipsis,) else args
        checked = [check_value(item, hint, f"{field}[{i}]") for i, (item, hint) in enumerate(zip(value, items))]
        return tuple(checked) if origin is tuple else checked
    if origin is dict:
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            raise wrong
        return {key: check_value(item, args[1], f"{field}.{key}") for key, item in value.items()}
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise wrong
    if hint is int and isinstance(value, bool):
        raise wrong
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise wrong


def from_json(cls: type[T], data: Any, *, ignore_unknown: bool = True) -> T:
    """``cls(**data)`` with every value checked against ``cls``'s annotations (see :func:`check_value`).

    A missing field takes its default (a required one is a :class:`FieldError`); fields this version
    does not know are ignored (``ignore_unknown``: a newer lstmkit may have written them) or refused.
    Errors from ``cls.__post_init__`` (ranges) pass through unchanged.
    """
    if not isinstance(data, Mapping):
        raise FieldError("", f"expected an object of {cls.__name__}'s fields, got {_given(data)}")
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown and not ignore_unknown:
        raise FieldError(unknown[0], f"{cls.__name__} has no such field; its fields are {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = check_value(data[name], hints[name], name)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise FieldError(name, f"missing (a required field of {cls.__name__})")
    return cls(**values)
