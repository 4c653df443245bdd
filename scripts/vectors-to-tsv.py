#!/usr/bin/env python3
"""Flattens spec/vectors/*.json into tab-separated lines (file, vector index, key, value) so that
C tests can read the vectors without a JSON parser."""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "spec" / "vectors"
for path in sorted(root.glob("*.json")):
    doc = json.loads(path.read_text())
    for i, vec in enumerate(doc["vectors"]):
        for key, value in vec.items():
            if "\t" in value or "\n" in value:
                sys.exit(f"{path.name}: vector {i} field {key} holds a tab or newline")
            print(f"{path.name}\t{i}\t{key}\t{value}")
