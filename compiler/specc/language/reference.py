"""The spec reference (``docs/reference.md``), rendered from the catalog.

Every spec section, layer declaration and Keras object, each argument with its type,
default, range and one-line description. It reads them from the published JSON Schema
(:func:`specc.language.jsonschema.json_schema`), which the declarations' Pydantic fields
(types, defaults, bounds) and :mod:`specc.terms.descriptions` make, so the reference
says exactly what ``specc validate`` and editors check, and cannot drift from them: a test
keeps the checked-in page equal to this output (``make docs`` regenerates it). The output
depends on nothing but the catalog: same catalog, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from specc.terms.values import (
    ACTIVATIONS,
    FLOAT32_MAX,
    IDENTIFIER_PATTERN,
    INT64_MAX,
    REF_PATTERN,
)

REFERENCE_FILE = "docs/reference.md"
"""Where the reference is checked in, relative to the repository root."""
REGENERATE = "specc reference -o docs/reference.md"
"""The command that writes it (``make docs`` runs it)."""

OBJECT_KINDS = (
    # (union definition, heading and anchor, what one is called, Keras module)
    ("optimizers_by_type", "optimizers", "optimizer", "optimizers"),
    ("optimizers_schedules_by_type", "schedules", "learning-rate schedule", "optimizers.schedules"),
    ("losses_by_type", "losses", "loss", "losses"),
    ("metrics_by_type", "metrics", "metric", "metrics"),
    ("initializers_by_type", "initializers", "initializer", "initializers"),
    ("regularizers_by_type", "regularizers", "regularizer", "regularizers"),
    ("constraints_by_type", "constraints", "constraint", "constraints"),
    ("callbacks_by_type", "callbacks", "callback", "callbacks"),
)
"""The Keras objects a spec names or configures, in the order the reference lists them."""

SECTIONS = (
    # (definition, heading, where it sits in a spec)
    ("Model", "model", "`model:`"),
    ("Input", "input", "`model.input`"),
    ("NamedInput", "named-input", "each of `model.inputs`"),
    ("Apply", "apply", "a `model.layers` entry `{apply: NAME}`"),
    ("UseModel", "use-model", "a `model.layers` entry `{model: NAME}`"),
    ("Backbone", "backbone", "a `model.layers` entry `{type: VGG16, ...}` (keras.applications)"),
    ("BlockUse", "block-use", "a `model.layers` entry `{block: NAME}`"),
    ("Data", "data", "`data:`"),
    ("Preprocessing", "preprocessing", "`data.preprocessing`"),
    ("ReshapeStep", "reshape-step", "an `x` step"),
    ("CastStep", "cast-step", "an `x` step"),
    ("DivideStep", "divide-step", "an `x` step"),
    ("OneHotStep", "one-hot-step", "a `y` step"),
    ("Compile", "compile", "`compile:`"),
    ("Training", "training", "`training:`"),
    ("Mirrored", "mirrored", "`training.distribution`"),
    ("MultiWorkerMirrored", "multi-worker-mirrored", "`training.distribution`"),
    ("DataParallel", "data-parallel", "`training.distribution`"),
    ("Runtime", "runtime", "`runtime:`"),
    ("Regularizer", "regularizer-shorthand", "a regularizer as `{l1: ..., l2: ...}`"),
)
"""The spec's own sections below the top level, in the order the reference lists them."""

_REF = "#/$defs/"


def reference_markdown() -> str:
    """The whole reference page, as Markdown."""
    from specc.language.jsonschema import json_schema

    schema = json_schema()
    return "\n".join(_Page(schema).lines()) + "\n"


class _Page:
    """One rendering of the reference: knows which definitions have a section to link to."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema["$defs"]
        self.anchors = {name: anchor for name, anchor, _ in SECTIONS}
        self.kinds = {union: (anchor, noun) for union, anchor, noun, _ in OBJECT_KINDS}
        self.layers = self._by_tag("Layer")
        for tag, key in self.layers.items():
            self.anchors[key] = tag.lower()

    def _by_tag(self, union: str) -> dict[str, str]:
        """``type`` tag -> definition name, from a dispatch union (``allOf`` of if/then)."""
        out: dict[str, str] = {}
        for branch in self.defs[union]["allOf"]:
            tag = branch["if"]["properties"]["type"]["const"]
            out[tag] = branch["then"]["$ref"].removeprefix(_REF)
        return out

    # ----------------------------------------------------------------------- the page
    def lines(self) -> Iterator[str]:
        from specc.layers import CATALOG, FAMILIES

        yield "# Spec reference"
        yield ""
        yield (
            "Every key a spec may hold: the sections, each layer type of the catalog and "
            "each Keras object, with its type, default, range and what it is. Generated "
            f"from the catalog (`compiler/specc/layers/`, `compiler/specc/language/`) by "
            f"`{REGENERATE}` (`make docs`); do not edit it by hand: a test fails while it "
            "is stale. How the pieces fit together is in [the spec format](spec-format.md)."
        )
        yield ""
        yield (
            "Types read as in YAML 1.2: an *integer* is written without a point, a *number* "
            "may be either (every number is finite and within float32's range); an "
            "*identifier* is an ASCII Python identifier that is not a keyword. *required* "
            "means the key must be given; any other key left out takes its default, which "
            "is Keras' own."
        )
        yield ""
        yield "Contents:"
        yield ""
        yield "- [The spec](#the-spec): [top level](#top-level), " + ", ".join(
            f"[{anchor.replace('-', ' ')}](#{anchor})" for _, anchor, _ in SECTIONS
        )
        families = {family: [t for t, f in CATALOG.index().items() if f == family]
                    for family in FAMILIES}  # fmt: skip
        yield "- [Layers](#layers), by family: " + ", ".join(
            f"[{family}](#{family}-layers)" for family in FAMILIES
        )
        yield "- [Operations](#operations): `keras.ops` functions on tensors (`{op: add}`)"
        yield "- [Keras objects](#keras-objects): [activations](#activations), " + ", ".join(
            f"[{anchor}](#{anchor})" for _, anchor, _, _ in OBJECT_KINDS
        )
        yield ""
        yield from self._spec()
        yield "## Layers"
        yield ""
        yield (
            "`type` is the Keras class name; every other key is that class's constructor "
            "argument. Every layer also takes `name` (an identifier; default: Keras' "
            "automatic name) and, in `model.layers`, `inputs` (what it takes, by name; "
            "default: the entry above) and `as` (a label for its output), which the tables "
            "leave out."
        )
        yield ""
        for family in FAMILIES:
            yield f"### {family} layers"
            yield ""
            yield " ".join(f"[{tag}](#{tag.lower()})" for tag in families[family])
            yield ""
            for tag in families[family]:
                key = self.layers[tag]
                yield f"#### {tag}"
                yield ""
                yield from self._described(key, f"`keras.{CATALOG[tag].KERAS_PATH}`")
                yield from self._table(key, CATALOG[tag], skip=("type", "name", "inputs", "as"))
        yield from self._operations()
        yield from self._objects()

    def _operations(self) -> Iterator[str]:
        """One section per operation: its ``keras.ops`` function, Keras' class (its row in
        the summary), its arguments."""
        from specc.layers import OPERATIONS

        yield "## Operations"
        yield ""
        yield (
            "An entry with `op` calls a `keras.ops` function on tensors, as `x + y` or "
            "`keras.ops.relu6(x)` does in functional code: Keras records it as a node, a row "
            "of the summary with no weights, named after its class with the counters layers "
            "use (an `add` after an `Add` layer is `add_1`). `inputs` gives its operands in "
            "order: tensors by name and, where it takes constants, numbers (`inputs: [1.0, x]` "
            "is `1.0 - x`); default: the entry above. `value` is a constant last operand "
            "(`{op: multiply, value: 0.5}` is `x * 0.5`). Every operation also takes `name` "
            "and `as`. A spec with an operation is a functional model."
        )
        yield ""
        for branch in self.defs["Operation"]["allOf"]:
            tags = branch["if"]["properties"]["op"]["enum"]
            key = branch["then"]["$ref"].removeprefix(_REF)
            cls = OPERATIONS[tags[0]]
            yield f"#### {' / '.join(tags)}"
            yield ""
            where = f"`keras.{cls.KERAS_PATH}`, row `{cls.__name__}`"
            yield from self._described(key, where)
            yield from self._table(key, cls, skip=("op", "name", "inputs", "as"))

    def _spec(self) -> Iterator[str]:
        top = self.schema["else"]
        yield "## The spec"
        yield ""
        yield "### top level"
        yield ""
        yield self._text(self.schema["description"])
        yield ""
        yield from self._rows(top["properties"], top.get("required", ()), _section("Spec"))
        variant = self.schema["then"]["properties"]
        yield (
            "A spec with `extends:` is a variant of another (see [experiments]"
            "(experiments.md#variants)); it may also hold:"
        )
        yield ""
        yield from self._rows({k: variant[k] for k in ("extends", "set")}, ())
        for name, anchor, where in SECTIONS:
            yield f"### {anchor.replace('-', ' ')}"
            yield ""
            yield from self._described(name, where)
            yield from self._table(name, _section(name))

    def _objects(self) -> Iterator[str]:
        yield "## Keras objects"
        yield ""
        yield (
            "Wherever Keras takes one of these, a spec gives a name Keras resolves or the "
            "class with its arguments, `{type: Class, ...}` (Keras 3 names and defaults)."
        )
        yield ""
        yield "### activations"
        yield ""
        yield "An `activation` is one of these names: " + ", ".join(f"`{a}`" for a in ACTIVATIONS)
        yield ""
        for union, anchor, _noun, module in OBJECT_KINDS:
            classes = self._by_tag(union)
            yield f"### {anchor}"
            yield ""
            names = _names(module)
            if names:
                yield (
                    f"By name, as Keras resolves it: {', '.join(f'`{n}`' for n in names)}; "
                    f"or as `{{type: Class, ...}}` with one of these classes and its arguments "
                    "(the class name alone is taken too)"
                    + (
                        "; or the [shorthand](#regularizer-shorthand) `{l1: ..., l2: ...}`:"
                        if module == "regularizers"
                        else ":"
                    )
                )
            elif module == "optimizers":
                yield (
                    "By name in any case (`rmsprop`, `RMSprop`, `adam`, ...: the class with "
                    "Keras' defaults), or as `{type: Class, ...}` with its arguments:"
                )
            else:
                yield "As `{type: Class, ...}` with one of these classes and its arguments:"
            yield ""
            yield " ".join(f"[{t}](#{_slug(module + '.' + t)})" for t in classes)
            yield ""
            for tag, key in classes.items():
                yield f"#### {module}.{tag}"
                yield ""
                yield from self._described(key, f"`keras.{module}.{tag}`")
                yield from self._table(key, _keras_object(module, tag), skip=("type",))

    # ---------------------------------------------------------------------- a table
    def _described(self, key: str, where: str) -> Iterator[str]:
        text = self.defs[key].get("description", "")
        yield f"{where}: {self._text(text)}" if text else where
        yield ""

    def _table(self, key: str, model: Any, skip: tuple[str, ...] = ()) -> Iterator[str]:
        node = self.defs[key]
        props = {k: v for k, v in node.get("properties", {}).items() if k not in skip}
        if not props:
            yield "No arguments."
            yield ""
            return
        yield from self._rows(props, node.get("required", ()), model)

    def _rows(self, props: dict[str, Any], required: Any, model: Any = None) -> Iterator[str]:
        """A table of keys; ``model`` (the Pydantic class) gives defaults JSON Schema omits
        (a ``default_factory``'s)."""
        yield "| key | type | default | description |"
        yield "| --- | --- | --- | --- |"
        for name, prop in sorted(props.items(), key=lambda item: (item[0] not in required,)):
            default = "*required*" if name in required else _default(prop, model, name)
            yield (
                f"| `{name}` | {self._type(prop)} | {default} | "
                f"{self._text(self._description(prop))} |"
            )
        yield ""

    def _description(self, prop: dict[str, Any]) -> str:
        if "description" in prop:
            return str(prop["description"])
        if "$ref" in prop:
            return str(self.defs[prop["$ref"].removeprefix(_REF)].get("description", ""))
        return ""

    @staticmethod
    def _text(text: str) -> str:
        """Free text in a table cell: no pipe, no HTML."""
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    # ----------------------------------------------------------------------- types
    def _type(self, node: dict[str, Any]) -> str:
        return " or ".join(dict.fromkeys(self._types(node)))

    def _types(self, node: dict[str, Any]) -> list[str]:
        """What ``node`` accepts, as short phrases (one per alternative)."""
        if "$ref" in node:
            return [self._ref(node["$ref"].removeprefix(_REF))]
        if "then" in node:  # if/then/else: either branch (the ``if`` only tells them apart)
            return self._union([node["then"], node.get("else", {})])
        for key in ("anyOf", "oneOf"):
            if key in node:
                return self._union(node[key])
        return [self._plain(node)]

    def _union(self, members: list[dict[str, Any]]) -> list[str]:
        out: list[str] = []
        for member in members:
            out.extend(self._types(member))
        objects = [t for t in out if t.startswith("[") and "](#" in t]
        # A Keras object's names are listed in its section: "loss", not 46 names.
        return [t for t in out if not (t.startswith("one of") and objects)] or out

    def _ref(self, key: str) -> str:
        if key in self.kinds:
            anchor, noun = self.kinds[key]
            return f"[{noun}](#{anchor})"
        if key == "Layer":
            return "[a layer](#layers)"
        if key in self.anchors:
            return f"[{key}](#{self.anchors[key]})"
        return self._type(self.defs[key])

    def _plain(self, node: dict[str, Any]) -> str:
        if "const" in node:
            return f"`{_value(node['const'])}`"
        if "enum" in node:
            values = list(node["enum"])
            if set(values) == set(ACTIVATIONS) or set(values) == {*ACTIVATIONS, None}:
                return "[activation](#activations)"
            return "one of " + ", ".join(f"`{_value(v)}`" for v in values)
        kind = node.get("type")
        if kind == "integer":
            return "integer" + _range(node)
        if kind == "number":
            return "number" + _range(node)
        if kind == "boolean":
            return "boolean"
        if kind == "null":
            return "null"
        if kind == "string":
            return _string(node)
        if kind == "array":
            return self._array(node)
        if kind == "object" or "properties" in node or "patternProperties" in node:
            return self._mapping(node)
        return "any value"

    def _array(self, node: dict[str, Any]) -> str:
        items = _grouped(self._type(node["items"])) if "items" in node else "values"
        low, high = node.get("minItems"), node.get("maxItems")
        if low is not None and low == high:
            return f"list of {low} × {items}"
        size = f" (at least {low})" if low and low > 1 else " (not empty)" if low else ""
        return f"list of {items}{size}"

    def _mapping(self, node: dict[str, Any]) -> str:
        values = node.get("patternProperties") or {}
        if values:
            (value,) = values.values()
            return f"mapping of name → {_grouped(self._type(value))}"
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return f"mapping of name → {_grouped(self._type(extra))}"
        return "mapping"


def _grouped(text: str) -> str:
    """Alternatives inside a list or mapping, in parentheses: ``list of (A or B)``."""
    return f"({text})" if " or " in text else text


def _patterns() -> dict[str, str]:
    """Patterns said in words: each holds a ``|``, which no code span in a table cell may
    hold in both GitHub's and MkDocs' Markdown."""
    from specc.language.schema import KERAS_DEVICE_PATTERN, TF_DEVICE_PATTERN
    from specc.layers.core import EQUATION_PATTERN

    return {
        TF_DEVICE_PATTERN: "TensorFlow device: `/gpu:N`, `/cpu:N`, `/device:GPU:N`",
        KERAS_DEVICE_PATTERN: "Keras device: `gpu:N`, `cpu:N`, `tpu:N`",
        EQUATION_PATTERN: "einsum equation: `ab,bc->ac`, `...b,bc->...c` or `ab...,bc->ac...`",
    }


def _string(node: dict[str, Any]) -> str:
    pattern = node.get("pattern")
    words = _patterns()
    if pattern == IDENTIFIER_PATTERN:
        return "identifier"
    if pattern == REF_PATTERN:
        return "layer or input name (`name.N`: output N)"
    if "examples" in node:
        return "name in any case: " + ", ".join(f"`{e}`" for e in node["examples"] if e.islower())
    if pattern in words:
        return words[pattern]
    if pattern and "|" not in pattern:  # a pipe would split the table's row on GitHub
        return f"string matching `{pattern}`"
    if pattern:
        return "string (its pattern: the JSON Schema, `specc schema`)"
    return "text" if not node.get("minLength") else "text (not empty)"


def _range(node: dict[str, Any]) -> str:
    """`` ≥ 1``, `` 0 ≤ x < 1``: the bounds a number takes beyond being finite float32."""
    if node.get("type") == "integer":  # integers: inclusive bounds read better (≥ 1, not > 0)
        node = dict(node)
        if "exclusiveMinimum" in node:
            node["minimum"] = node.pop("exclusiveMinimum") + 1
        if "exclusiveMaximum" in node:
            node["maximum"] = node.pop("exclusiveMaximum") - 1
    low = [(node[k], "≤" if k == "minimum" else "<") for k in ("minimum", "exclusiveMinimum")
           if k in node and node[k] not in (-FLOAT32_MAX,)]  # fmt: skip
    high = [(node[k], "≤" if k == "maximum" else "<") for k in ("maximum", "exclusiveMaximum")
            if k in node and node[k] not in (FLOAT32_MAX, INT64_MAX)]  # fmt: skip
    if low and high:
        return f", {_value(low[0][0])} {low[0][1]} x {high[0][1]} {_value(high[0][0])}"
    if low:
        return " " + {"≤": "≥", "<": ">"}[low[0][1]] + f" {_value(low[0][0])}"
    if high:
        return f" {high[0][1]} {_value(high[0][0])}"
    return ""


def _default(prop: dict[str, Any], model: Any, name: str) -> str:
    if "default" in prop:
        return f"`{_value(prop['default'])}`"
    fields = getattr(model, "model_fields", {})
    key = next((k for k, f in fields.items() if (f.alias or k) == name), None)
    if key is None or fields[key].is_required():
        return "—"
    value = fields[key].get_default(call_default_factory=True)
    if hasattr(value, "model_dump"):
        kind = getattr(value, "type", None)
        return f"`{kind.lower()}`" if isinstance(kind, str) else "each key's default"
    return f"`{_value(value)}`"


def _names(module: str) -> tuple[str, ...]:
    """The names Keras resolves for a kind of object, as the spec language accepts them."""
    from specc.terms import objects

    return {
        "losses": objects.LOSS_NAMES,
        "metrics": objects.METRIC_NAMES,
        "initializers": objects.INITIALIZER_NAMES,
        "regularizers": objects.REGULARIZER_NAMES,
        "constraints": objects.CONSTRAINT_NAMES,
    }.get(module, ())


def _section(name: str) -> Any:
    """The Pydantic class of a spec section (None for one JSON Schema alone states)."""
    from specc.language import schema

    return getattr(schema, name, None)


def _keras_object(module: str, tag: str) -> Any:
    """The Pydantic class of a Keras object (optimizers and callbacks are spec sections)."""
    from specc.terms import objects

    if module in objects.DECLARED:
        return objects.object_class(module, tag)
    return _section(tag)


def _value(value: Any) -> str:
    """A value as a spec writes it (YAML flow style): ``null``, ``true``, ``[1, 1]``, ``same``."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _slug(heading: str) -> str:
    """The anchor MkDocs and GitHub both give a heading made of letters, digits, ``.``, ``-``."""
    return heading.lower().replace(".", "").replace(" ", "-")


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
