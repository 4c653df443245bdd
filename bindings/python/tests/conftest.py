import os
import pathlib
import sys
from typing import Iterator

import pytest

# The tests import their helpers (harness, relay) by name.
sys.path.insert(0, os.path.dirname(__file__))

from relay import RelayProcess  # noqa: E402


@pytest.fixture
def relay(tmp_path: pathlib.Path) -> Iterator[RelayProcess]:
    """A zfc-relay process on a free loopback port, stopped after the test."""
    r = RelayProcess(tmp_path / "relay")
    r.start()
    yield r
    r.stop()
