"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture
def record_calls(monkeypatch):
    """``record_calls(target, name)`` wraps ``target[name]`` (a dict entry, such as a model's network) or
    ``target.name`` (a module's function) so that every call's positional arguments are recorded, in the list it
    returns; the real one is put back after the test, even when an assertion fails."""

    def wrap(target, name: str) -> list[tuple]:
        calls: list[tuple] = []
        real = target[name] if isinstance(target, dict) else getattr(target, name)

        def recorded(*args, **kwargs):
            calls.append(args)
            return real(*args, **kwargs)

        if isinstance(target, dict):
            monkeypatch.setitem(target, name, recorded)
        else:
            monkeypatch.setattr(target, name, recorded)
        return calls

    return wrap
