#!/usr/bin/env python3
"""Prints the text fields of JSON Lines files (SloSuperGLUE's passages, questions, premises,
hypotheses and choices), one per line, for a pretraining corpus: every string value except the
label and COPA's English "cause" / "effect" question type."""
import json
import sys

SKIP_KEYS = {"label", "idx"}
SKIP_VALUES = {"cause", "effect"}

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: {e}")
            for key, value in row.items():
                if key in SKIP_KEYS or not isinstance(value, str) or value in SKIP_VALUES:
                    continue
                print(" ".join(value.split()))
