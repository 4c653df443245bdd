"""The package's surface: every public name documented and registered under `zfc`, every
class immutable, the stubs' names the module's."""

from __future__ import annotations

import inspect

import pytest

import zfc


def public_classes() -> list[type]:
    out = []
    for name in zfc.__all__:
        obj = getattr(zfc, name)
        if inspect.isclass(obj):
            out.append(obj)
            out.extend(v for v in vars(obj).values() if inspect.isclass(v) and issubclass(v, obj))
    return out


@pytest.mark.parametrize("cls", public_classes(), ids=lambda c: c.__qualname__)
def test_every_class_is_documented_and_registered_under_zfc(cls: type) -> None:
    assert cls.__module__ == "zfc", cls
    assert (cls.__doc__ or "").strip(), f"{cls.__qualname__} has no docstring"


def test_every_function_and_client_method_is_documented() -> None:
    for name in ("parse_invite", "fingerprint", "error_codes"):
        assert (getattr(zfc, name).__doc__ or "").strip(), name
    for name, member in vars(zfc.Client).items():
        if not name.startswith("_") and callable(member):
            assert (member.__doc__ or "").strip(), f"Client.{name}"


def test_records_are_frozen() -> None:
    settings = zfc.RoomSettings(auto_approve=True)
    with pytest.raises(AttributeError):
        settings.auto_approve = False  # type: ignore[misc]
    text = zfc.Content.Text(body="x")
    with pytest.raises(AttributeError):
        text.body = "y"  # type: ignore[misc]
    assert zfc.Content.Text(body="x") == text and zfc.Content.Text(body="y") != text
    address = zfc.RelayAddress("ws://relay.test:5103", bytes(range(32)))
    assert address == zfc.RelayAddress("ws://relay.test:5103", bytes(range(32)))
    assert len({address, zfc.RelayAddress("ws://relay.test:5103", bytes(range(32)))}) == 1
    assert repr(address).startswith("RelayAddress(")
