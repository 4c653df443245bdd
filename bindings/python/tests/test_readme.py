"""The README's asyncio example, run as written against a zfc-relay process (in a scratch
directory, with the relay's address in the environment variables it reads)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from relay import RelayProcess

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"



@pytest.mark.skipif(sys.version_info < (3, 10), reason="the example uses match (3.10+)")
def test_the_readme_example_runs(relay: RelayProcess, tmp_path: pathlib.Path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    (tmp_path / "relay.pub").write_text(relay.key.hex() + "\n", encoding="utf-8")
    env = {**os.environ, "ZFC_RELAY": relay.url, "ZFC_RELAY_PUB": str(tmp_path / "relay.pub")}
    for _ in range(2):  # creates the state, then opens it again and reuses the room
        done = subprocess.run(
            [sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "invite: zfc:join?" in done.stdout and "member 0: 'hello'" in done.stdout, done.stdout
