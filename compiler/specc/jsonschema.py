"""The spec language as a JSON Schema, for editors (yaml-language-server) and other tools."""

from __future__ import annotations

import json
from typing import Any

from specc.schema import OPTIMIZER_NAMES, Spec

SCHEMA_FILE = "specc.schema.json"


def json_schema() -> dict[str, Any]:
    """Pydantic's schema for :class:`Spec`, plus the shorthands validators accept."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "specc model spec"
    # `optimizer: rmsprop` is accepted as shorthand for `{type: RMSprop}`.
    compile_props = schema["$defs"]["Compile"]["properties"]
    compile_props["optimizer"] = {
        "anyOf": [{"type": "string", "enum": sorted(OPTIMIZER_NAMES)}, compile_props["optimizer"]],
        "description": "An optimizer name (rmsprop, adam, ...) or {type: RMSprop, learning_rate: ...}.",
    }
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
