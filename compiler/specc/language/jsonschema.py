"""The spec language as a JSON Schema, for editors (yaml-language-server) and other tools.

Built from the Pydantic models, then made to say what specc says in standard Draft 2020-12
only, so strict validators (Ajv's strict mode) load it and agree with ``specc validate``
on every rule a schema can express (``tests/test_jsonschema.py`` checks both).
"""

from __future__ import annotations

import json
import keyword
from typing import Any

from specc.applications import NAMES
from specc.language.schema import OPTIMIZER_NAME_SCHEMA, Spec
from specc.layers import CATALOG
from specc.layers.base import AS_JSON_SCHEMA, INPUTS_JSON_SCHEMA, OP_FAMILIES
from specc.terms.values import FLOAT32_MAX, IDENTIFIER_PATTERN, REF_PATTERN

SCHEMA_ID = "urn:specc:spec:1"
"""The schema's ``$id``: a name, not a location (editors find the file from the
``# yaml-language-server: $schema=...`` line; every ``$ref`` is inside the file)."""

FINITE: dict[str, Any] = {
    # inf fails the float32 bounds; NaN passes every comparison, so it is caught by the one
    # thing only it satisfies: being both <= 0 and >= 1.
    "not": {"maximum": 0, "minimum": 1},
    "$comment": "finite: .inf fails the float32 bounds, .nan the not",
}


def _standard(node: Any) -> None:
    """Drop OpenAPI's ``discriminator`` (``oneOf`` over ``const`` tags does the work) and
    make every number finite, in place."""
    if isinstance(node, dict):
        node.pop("discriminator", None)
        if node.get("type") == "number":
            if "minimum" not in node and "exclusiveMinimum" not in node:
                node["minimum"] = -FLOAT32_MAX
            if "maximum" not in node and "exclusiveMaximum" not in node:
                node["maximum"] = FLOAT32_MAX
            for key, value in FINITE.items():
                node.setdefault(key, value)
        for value in node.values():
            _standard(value)
    elif isinstance(node, list):
        for value in node:
            _standard(value)


IDENTIFIER: dict[str, Any] = {
    "type": "string",
    "pattern": IDENTIFIER_PATTERN,
    "not": {"enum": sorted(keyword.kwlist)},
}
PARAM: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\$[A-Za-z_][A-Za-z0-9_]*(?!\n)$",
    "description": "A parameter of the block, $name: replaced by the use's value.",
}
BLOCK_USE: dict[str, Any] = {
    "type": "object",
    "required": ["block"],
    "properties": {
        "block": {"type": "string", "description": "The name of a block under blocks:."},
        "repeat": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "How many times the block is applied, one after the other.",
        },
        "each": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "array", "minItems": 1},
            "description": "One application per value, chained: {filters: [64, 128, 256]}.",
        },
        "inputs": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 1,
            "description": "What the block's first layer takes, by name; default: the layer "
            "before it.",
        },
        "as": {
            **IDENTIFIER,
            "description": "A label for the block's output, for other layers' inputs to refer to.",
        },
    },
    "additionalProperties": True,
    "description": "A use of a block: {block: NAME, <its params>, repeat: N}.",
}
BLOCK_USE_IN_BLOCK: dict[str, Any] = {
    **BLOCK_USE,
    "properties": {
        **BLOCK_USE["properties"],
        "repeat": {
            "anyOf": [BLOCK_USE["properties"]["repeat"], PARAM],
            "description": BLOCK_USE["properties"]["repeat"]["description"],
        },
        "as": {
            "anyOf": [IDENTIFIER, PARAM],
            "description": BLOCK_USE["properties"]["as"]["description"],
        },
    },
    "description": "A use of a block in a block: its repeat and as may be $params too.",
}
BLOCK: dict[str, Any] = {
    "type": "object",
    "required": ["layers"],
    "properties": {
        "params": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object"},
            ],
            "description": "Parameter names, or names with defaults ($required: none, a "
            "use must give it); used as $name.",
        },
        "description": {"type": "string", "description": "What the block is, for people."},
        "layers": {
            "type": "array",
            "minItems": 1,
            "items": {
                "anyOf": [
                    {"type": "object", "required": ["type"]},
                    {"type": "object", "required": ["op"]},
                    {"$ref": "#/$defs/BlockUseInBlock"},
                ]
            },
            "description": "The block's layers; values may be $param, `in` names its input.",
        },
    },
    "additionalProperties": False,
}

USE: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}},
    ],
    "description": "Block libraries whose blocks the spec uses: specc/NAME (shipped: "
    "specc/transformer, specc/vision, specc/conv) or a file relative to this one.",
}


def _blocks(schema: dict[str, Any]) -> None:
    """``blocks:`` and block uses among the layers: expanded before the Pydantic schema
    sees the spec, so the published schema states them itself (a block's layers loosely:
    their values may be ``$param``)."""
    schema["$defs"]["BlockUse"] = BLOCK_USE
    schema["$defs"]["BlockUseInBlock"] = BLOCK_USE_IN_BLOCK
    schema["properties"]["blocks"] = {
        "type": "object",
        "additionalProperties": {"anyOf": [BLOCK, BLOCK["properties"]["layers"]]},
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "description": "Blocks defined once, used as {block: NAME, ...} in model.layers.",
    }
    schema["properties"]["use"] = USE
    layers = schema["$defs"]["Model"]["properties"]["layers"]
    layers["items"] = {"anyOf": [layers["items"], {"$ref": "#/$defs/BlockUse"}]}


def _dispatch_on(key: str, value: Any) -> dict[str, Any]:
    """The ``if`` of an ``if``/``then`` that picks a schema by one key's value (or, with
    ``value`` None, by the key's presence)."""
    return {
        "properties": {key: {} if value is None else {"const": value}},
        "required": [key],
    }


def _layer_union(schema: dict[str, Any]) -> None:
    """A layer is picked by its ``type``, as specc picks it, not tried against every layer.

    Pydantic writes the catalog as ``anyOf`` (and ``model.layers`` as an ``anyOf`` of that,
    ``apply`` entries and block uses): a standard validator then reports the nearest miss
    among 100 layers, e.g. "'block' is a required property" for ``kernal_size``. As
    ``if``/``then`` on ``type``, an unknown key is refused by its own layer's
    ``additionalProperties`` and an unknown type by the enum of catalog types."""
    defs = schema["$defs"]
    union = defs["Layer"]["anyOf"]
    types: list[str] = []
    chain = []
    for member in union:
        ref = member["$ref"]
        tag = defs[ref.rsplit("/", 1)[-1]]["properties"]["type"]["const"]
        types.append(tag)
        chain.append({"if": _dispatch_on("type", tag), "then": {"$ref": ref}})
    defs["Layer"] = {
        "type": "object",
        "description": "A Keras layer: type names its class, the other keys its arguments.",
        "required": ["type"],
        "properties": {
            "type": {
                "enum": types,
                "description": "The Keras layer class (Dense, Conv2D, LSTM, ...).",
            }
        },
        "allOf": chain,
    }
    # model.layers: a block use (any entry with `block`, as blocks.expand reads it), else an
    # operation (`op`), else a layer (`type`), else a layer called again (`apply`), else a
    # sub-model built and called (`model`), else a keras.applications model by name, else a
    # layer missing its type.
    _op_union(defs)
    layers = defs["Model"]["properties"]["layers"]
    layers["items"] = {
        "type": "object",
        "if": _dispatch_on("block", None),
        "then": {"$ref": "#/$defs/BlockUse"},
        "else": {
            "if": _dispatch_on("op", None),
            "then": {"$ref": "#/$defs/Operation"},
            "else": {
                "if": _dispatch_on("type", None),
                "then": {
                    "if": {"properties": {"type": {"enum": list(NAMES)}}, "required": ["type"]},
                    "then": {"$ref": "#/$defs/Backbone"},  # keras.applications by name
                    "else": {"$ref": "#/$defs/Layer"},
                },
                "else": {
                    "if": _dispatch_on("apply", None),
                    "then": {"$ref": "#/$defs/Apply"},
                    "else": {
                        "if": _dispatch_on("model", None),
                        "then": {"$ref": "#/$defs/UseModel"},
                        "else": {"$ref": "#/$defs/Layer"},
                    },
                },
            },
        },
    }


OPERAND = {
    "anyOf": [{"type": "string", "pattern": REF_PATTERN}, {"type": "number"}],
    "description": "A tensor by layer or input name, or a number (a constant operand).",
}


def _op_union(defs: dict[str, Any]) -> None:
    """Operations (``{op: add}``) picked by their ``op``, as layers by their ``type``; each
    takes ``inputs`` (tensors by name, or numbers where it takes constants) and ``as``."""
    chain, names = [], []
    for member in defs["Operation"]["anyOf"]:
        ref = member["$ref"]
        op = defs[ref.rsplit("/", 1)[-1]]
        tag = op["properties"]["op"]
        tags = [tag["const"]] if "const" in tag else list(tag["enum"])
        names += tags
        constants = "value" in op["properties"]
        op["properties"]["inputs"] = {
            "type": "array",
            "items": OPERAND if constants else {"type": "string", "pattern": REF_PATTERN},
            "minItems": 1,
            "description": "The operands in order: tensors by name"
            + (", or numbers (inputs: [1.0, x] is 1.0 - x)" if constants else "")
            + "; default: the entry above.",
        }
        op["properties"]["as"] = {"$ref": "#/$defs/Label"}
        chain.append(
            {
                "if": {"properties": {"op": {"enum": tags}}, "required": ["op"]},
                "then": {"$ref": ref},
            }
        )
    defs["Operation"] = {
        "type": "object",
        "description": "An operation on tensors (keras.ops): op names the function.",
        "required": ["op"],
        "properties": {
            "op": {"enum": names, "description": "The keras.ops function (add, relu6, ...)."}
        },
        "allOf": chain,
    }


def _union_name(tags: list[str]) -> str:
    """The ``$defs`` name of a dispatch over ``tags``: the Keras module they come from."""
    from specc.language.schema import OPTIMIZER_NAMES
    from specc.terms.objects import DECLARED, LOSS_AS_METRIC

    modules = {
        "losses": set(DECLARED["losses"]),
        "metrics": {*DECLARED["metrics"], *(LOSS_AS_METRIC + n for n in DECLARED["losses"])},
        **{m: set(names) for m, names in DECLARED.items() if m not in ("losses", "metrics")},
        "optimizers": set(OPTIMIZER_NAMES.values()),
        "callbacks": {"EarlyStopping", "ReduceLROnPlateau"},
    }
    module = next((m for m, names in modules.items() if set(tags) <= names), "objects")
    return module.replace(".", "_") + "_by_type"


def _object_unions(schema: dict[str, Any]) -> None:
    """The unions of Keras objects (``{type: HeNormal, seed: 1}``, optimizers, losses,
    callbacks), as the layers' (:func:`_layer_union`): an object is judged by the class its
    ``type`` names; a name (``he_normal``) or ``null`` by the other members, and a mapping
    without ``type`` (``{l2: 0.01}``, a per-output mapping) by its own schema, so a
    misspelt argument is reported as such, not as "is not one of [names]"."""
    defs = schema["$defs"]
    tag_of = {
        f"#/$defs/{key}": tag
        for key, d in defs.items()
        if isinstance(tag := d.get("properties", {}).get("type", {}).get("const"), str)
        and key != "Layer"
    }

    def visit(node: Any) -> None:
        """Inner unions first: a form (:func:`_by_form`) sees its members rewritten."""
        if isinstance(node, dict):
            for value in list(node.values()):
                visit(value)
            for key in ("anyOf", "oneOf"):
                if isinstance(node.get(key), list):
                    _rewrite_union(node, key, defs, tag_of)
            _by_form(node, defs)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(defs)
    visit(schema.get("properties"))


def _is_object(member: dict[str, Any], defs: dict[str, Any]) -> bool:
    """Whether a union member is (or refers to) an object schema."""
    target = defs.get(member.get("$ref", "").rsplit("/", 1)[-1], member)
    return target.get("type") == "object"


def _rewrite_union(
    node: dict[str, Any], key: str, defs: dict[str, Any], tag_of: dict[str, str]
) -> None:
    """A union of two or more tagged classes in ``node[key]`` as one definition that
    dispatches on ``type``; a mapping without ``type`` and the other members beside it."""
    members = node[key]
    tagged = [m for m in members if set(m) == {"$ref"} and m["$ref"] in tag_of]
    if len(tagged) < 2:
        return
    del node[key]
    tags = [tag_of[m["$ref"]] for m in tagged]
    name = base = _union_name(tags)
    for n in range(2, len(defs) + 2):  # one definition per set of tags
        if name not in defs or defs[name]["properties"]["type"]["enum"] == tags:
            break
        name = f"{base}_{n}"
    defs.setdefault(
        name,
        {
            "type": "object",
            "description": "A Keras object: type names its class, the other keys its arguments.",
            "required": ["type"],
            "properties": {"type": {"enum": tags, "description": "The Keras class."}},
            "allOf": [
                {"if": _dispatch_on("type", tag), "then": {"$ref": m["$ref"]}}
                for tag, m in zip(tags, tagged, strict=True)
            ],
        },
    )
    rest = [m for m in members if m not in tagged]
    objects = [m for m in rest if _is_object(m, defs)]
    others = [m for m in rest if not _is_object(m, defs)]
    by_type: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if objects:  # a mapping without `type` is the shorthand (one at most)
        (plain,) = objects
        by_type = {
            "type": "object",
            "if": _dispatch_on("type", None),
            "then": by_type,
            "else": plain,
        }
    if not others:
        node.update(by_type)
        return
    choice = {
        "if": {"type": "object"},
        "then": by_type,
        "else": others[0] if len(others) == 1 else {key: others},
    }
    if "if" in node or "$ref" in node:
        node.setdefault("allOf", []).append(choice)
    else:
        node.update(choice)


def _objects_only(member: dict[str, Any], defs: dict[str, Any]) -> bool:
    """Whether a member is an object, or a union of objects only."""
    union = member.get("oneOf", member.get("anyOf"))
    return _is_object(member, defs) or (
        isinstance(union, list) and all(_is_object(m, defs) for m in union)
    )


def _scalar(member: dict[str, Any]) -> bool:
    """Whether a member is a value that is not an object."""
    return member.get("type") in ("string", "number", "integer", "boolean", "null", "array")


def _by_form(node: dict[str, Any], defs: dict[str, Any]) -> None:
    """Forms told apart by the value itself, as specc tells them: an object, or a name
    (an optimizer), a number, null (an optional section); and a loss, which as a mapping
    without ``type`` gives one loss per output. ``if``/``else`` rather than a union, so
    the errors are the form's own ("'epoch' was unexpected", not "is not of type
    'null'")."""
    for key in ("anyOf", "oneOf"):
        members = node.get(key)
        if not isinstance(members, list) or "if" in node:
            continue
        per_output = [m for m in members if m.get("not") == {"required": ["type"]}]
        objects = [m for m in members if _objects_only(m, defs)]
        others = [m for m in members if m not in objects]
        if len(members) == 2 and per_output:
            (one,) = [m for m in members if m is not per_output[0]]
            one_object = one["then"] if one.get("if") == {"type": "object"} else one
            mapping = {
                "type": "object",
                "if": _dispatch_on("type", None),
                "then": one_object,
                "else": per_output[0],
            }
            del node[key]
            node.update({"if": {"type": "object"}, "then": mapping, "else": one})
        elif len(objects) == 1 and others and all(map(_scalar, others)):
            del node[key]
            rest = others[0] if len(others) == 1 else {key: others}
            node.update({"if": {"type": "object"}, "then": objects[0], "else": rest})


def _declare_required(node: Any) -> None:
    """Declare every ``required`` name in the same schema's ``properties`` (as ``{}``: any
    value), in place. Ajv's strict mode (strictRequired) refuses a ``required`` that names
    a property the schema does not declare, as in ``oneOf: [{required: [input]}, ...]``."""
    if isinstance(node, dict):
        required = node.get("required")
        if isinstance(required, list) and all(isinstance(k, str) for k in required):
            props = node.setdefault("properties", {})
            if isinstance(props, dict):
                for key in required:
                    props.setdefault(key, {})
        for key, value in node.items():
            if key not in ("properties", "$defs") or not isinstance(value, dict):
                _declare_required(value)
            else:
                for sub in value.values():
                    _declare_required(sub)
    elif isinstance(node, list):
        for value in node:
            _declare_required(value)


def _short_def_names(schema: dict[str, Any]) -> dict[str, Any]:
    """Operations named like layers (``Add``) made Pydantic name both by module
    (``specc__layers__merging__Add``): the layers keep their short names, the operations
    become ``op_Add``, every reference rewritten."""
    renamed: dict[str, str] = {}
    for key in schema["$defs"]:
        if key.startswith("specc__layers__") and key.split("__")[2] in OP_FAMILIES:
            renamed[key] = "op_" + key.rsplit("__", 1)[-1]
        elif key.startswith("specc__layers__"):
            renamed[key] = key.rsplit("__", 1)[-1]
    if not renamed:
        return schema
    text = json.dumps(schema)
    for old, new in renamed.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"')
    out: dict[str, Any] = json.loads(text)
    out["$defs"] = {renamed.get(k, k): v for k, v in out["$defs"].items()}
    return out


def json_schema() -> dict[str, Any]:
    """Pydantic's schema for :class:`Spec`, in standard keywords, plus the shorthands."""
    schema = _short_def_names(Spec.model_json_schema())
    # `optimizer: rmsprop` (any case, as in Keras) is shorthand for `{type: RMSprop}`.
    compile_props = schema["$defs"]["Compile"]["properties"]
    compile_props["optimizer"] = {
        "anyOf": [OPTIMIZER_NAME_SCHEMA, compile_props["optimizer"]],
        "description": "An optimizer name in any case (rmsprop, RMSprop, adam, ...) or "
        "{type: RMSprop, learning_rate: ...}.",
    }
    # A layer of model.layers may say what it takes (`inputs:`); specc reads it apart from
    # the Keras arguments, in any layer (a nested layer's is refused with the graph).
    for key, layer in schema["$defs"].items():
        tag = layer.get("properties", {}).get("type", {}).get("const")
        name = CATALOG[tag].__name__ if tag in CATALOG else None
        if name and (key == name or (key.split("__")[-1] == name and "__layers__" in key)):
            layer["properties"]["inputs"] = INPUTS_JSON_SCHEMA
            layer["properties"]["as"] = {"$ref": "#/$defs/Label"}  # once: it lists keywords
    schema["$defs"]["Label"] = AS_JSON_SCHEMA
    _blocks(schema)
    _layer_union(schema)
    _object_unions(schema)
    _standard(schema)
    whole = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "specc model spec",
        **_variants({k: v for k, v in schema.items() if k != "title"}),
    }
    _declare_required(whole)
    return whole


SPEC_PATH = r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*|\[-?[0-9]+\])*(\[\+[0-9]+\])?$"
"""A spec path as ``specc.language.paths`` reads it (``model.layers[1].units``, ``[+N]`` last)."""


def _variants(schema: dict[str, Any]) -> dict[str, Any]:
    """A spec with ``extends:`` is a variant: its sections are partial (merged into the
    base's), so the schema checks its form only (known sections, ``set:`` keys are spec
    paths); ``specc validate`` checks the merged spec. Any other spec is checked in full."""
    whole = {k: schema.pop(k) for k in ("properties", "required", "additionalProperties")}
    props = whole["properties"]
    own = ("specc", "name", "description", "use")
    variant = {
        "properties": {
            "extends": {
                "type": "string",
                "minLength": 1,
                "description": "The spec this one varies, relative to this file's folder.",
            },
            "set": {
                "type": "object",
                "propertyNames": {"pattern": SPEC_PATH},
                "description": "Spec paths to values, applied in order after the merge: "
                "{model.layers[1]: {type: BatchNormalization}}; ~ deletes, [+N] inserts.",
            },
            **{k: props[k] for k in own},
            **{
                k: {"type": "object", "description": "Merged into the base's, key by key."}
                for k in props
                if k not in own
            },
        },
        "additionalProperties": False,
    }
    return {**schema, "if": {"required": ["extends"]}, "then": variant, "else": whole}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
