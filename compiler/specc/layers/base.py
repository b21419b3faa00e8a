"""What a layer declaration is: a Pydantic model that also knows its shape rule.

Each Keras layer type is declared once, as a subclass of :class:`LayerSpec` in the module
of its family: its fields are the Keras constructor arguments (Keras' defaults, ranges),
``POSITIONAL`` the arguments people pass positionally, and :meth:`LayerSpec.infer` the
pure shape and parameter rule. Declaring the class registers it in :data:`CATALOG`;
schema, JSON Schema, summary, builder, code templates and importer all read the catalog.
A family's module is imported only when a spec uses one of its types (start-up pays for
the families a spec needs, not for the whole catalog).
"""

from __future__ import annotations

import importlib
import keyword
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    SerializeAsAny,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError, core_schema

from specc.layers import shapes
from specc.layers.constants import ArrayConstant, ArrayOf, constant_shape
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import (
    IDENTIFIER_PATTERN,
    INT_OR_TUPLE,
    REF_PATTERN,
    Identifier,
    Number,
    Ref,
    marked,
)

FAMILIES = (
    "core", "activations", "convolution", "pooling", "normalization", "regularization",
    "reshaping", "recurrent", "attention", "merging", "preprocessing", "lookup", "applications",
)  # fmt: skip
"""The family modules of :mod:`specc.layers`, in the order the catalog lists them."""

OP_FAMILIES = ("operations", "array_operations")
"""The modules of :mod:`specc.layers` that declare operations (``{op: add}``): Keras'
``keras.ops`` functions recorded as nodes of a functional model."""

_TYPE_LINE = re.compile(r'^    type: Literal\["(\w+)"\]', re.MULTILINE)
_OP_LINE = re.compile(r"^    op: Literal\[([^\]]+)\]", re.MULTILINE)


def _type_names(source: str) -> list[str]:
    return _TYPE_LINE.findall(source)


def _op_names(source: str) -> list[str]:
    """The names of ``op: Literal["hard_silu", "hard_swish"]`` lines (aliases included)."""
    return [name for tags in _OP_LINE.findall(source) for name in re.findall(r'"(\w+)"', tags)]


class Catalog(Mapping[str, "type[LayerSpec]"]):
    """Keras class name -> declaration, loading a family's module on first use.

    The names (and which family declares each) are read from the family modules' source,
    the ``type: Literal["..."]`` line of each declaration (``op: Literal[...]`` for the
    operations), without importing them; a test checks that this index equals what the
    declarations register. Iterating names is free; looking a name up imports its family;
    ``values()`` imports them all.
    """

    def __init__(
        self,
        families: tuple[str, ...] = FAMILIES,
        names: Callable[[str], list[str]] = _type_names,
    ) -> None:
        self._declared: dict[str, type[LayerSpec]] = {}
        self._index: dict[str, str] | None = None
        self.families = families
        self._names = names

    def index(self) -> dict[str, str]:
        """Type name -> family, in catalog order (families in :data:`FAMILIES` order)."""
        if self._index is None:
            folder = Path(__file__).parent
            self._index = {
                name: family
                for family in self.families
                for name in self._names((folder / f"{family}.py").read_text("utf-8"))
            }
        return self._index

    def register(self, name: str, cls: type[LayerSpec]) -> None:
        self._declared[name] = cls

    def __getitem__(self, name: str) -> type[LayerSpec]:
        cls = self._declared.get(name)
        if cls is None and name in self.index():
            importlib.import_module(f"specc.layers.{self.index()[name]}")
            cls = self._declared.get(name)
        if cls is None:
            raise KeyError(name)
        return cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.index()

    def __iter__(self) -> Iterator[str]:
        return iter(self.index())

    def __len__(self) -> int:
        return len(self.index())

    def registered(self) -> dict[str, type[LayerSpec]]:
        """Every declaration, all families imported (for the index test), in family order
        whichever family a caller imported first."""
        for family in self.families:
            importlib.import_module(f"specc.layers.{family}")
        rank = {family: i for i, family in enumerate(self.families)}
        ordered = sorted(self._declared.items(), key=lambda kv: rank.get(kv[1].FAMILY, len(rank)))
        return dict(ordered)


CATALOG = Catalog()
"""Keras class name -> declaration, in catalog order."""

OPERATIONS = Catalog(OP_FAMILIES, _op_names)
"""Operation name (``add``, ``relu6``: the ``keras.ops`` function) -> declaration."""


@dataclass(frozen=True)
class Out:
    """What a layer makes of its input: output shape and parameter counts.

    ``shape`` is a list of shapes for a layer with several outputs (an LSTM with
    ``return_state``). ``int64_params`` counts the non-trainable parameters Keras stores in
    8 bytes rather than 4 (a Normalization's ``count``): the summary prints byte sizes.
    """

    shape: Shape | list[Shape]
    trainable: int = 0
    non_trainable: int = 0
    int64_params: int = 0
    largest: tuple[int, str, str] | None = field(default=None, kw_only=True)
    """The largest weight tensor: elements, how they come about, the argument to blame
    (for the allocation limit; when None, all of the layer's weights count as one)."""


class LayerSpec(BaseModel):
    """Base of every catalog layer: the arguments every Keras layer takes (``name``).

    Validators are built on first use (``defer_build``), so a spec pays only for the
    layer types it uses: the catalog does not slow down ``specc validate``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    KIND: ClassVar[str] = "layers"
    """What the JSON Schema's descriptions file a layer under (``layers.Conv2D``)."""
    FAMILY: ClassVar[str] = ""
    POSITIONAL: ClassVar[tuple[str, ...]] = ()
    """Arguments Keras users pass positionally, in order (emitted code writes them so)."""
    INT_OR_TUPLE: ClassVar[frozenset[str]] = frozenset()
    """Tuple arguments Keras also accepts as one int (emitted as ``3`` for ``(3, 3)``)."""

    MINIMAL: ClassVar[dict[str, Any]] = {}
    """Valid values for required arguments whose names the importer does not know
    (it builds a default Keras instance with them, to leave Keras' defaults out)."""
    KERAS_PATH: ClassVar[str] = ""
    """Where the class lives in the ``keras`` namespace (default ``layers.<type>``)."""
    CALL_TRAINING: ClassVar[bool | None] = None
    """``training``'s default in Keras' ``call`` where it is not None (True: the image
    preprocessing layers). Keras records it in each call of a functional model, so a
    saved ``training=True`` on such a layer is the plain call a spec makes."""
    CALL_ARGUMENTS: ClassVar[tuple[str, ...]] = ()
    """Fields that are arguments of the layer's call, not of its constructor
    (MultiHeadAttention's ``use_causal_mask``): builder and emitted code pass them there."""
    NESTED: ClassVar[tuple[str, ...]] = ()
    """Fields that hold layers (a wrapper's ``layer``, a nested model's ``layers``)."""
    LIST_INPUT: ClassVar[bool] = False
    """In a layer stack, Keras hands this layer the previous layer's several outputs as
    one list (merging layers); :meth:`infer_many` then gives its output."""

    INITIAL_STATE: ClassVar[bool] = False
    """In a graph spec, the inputs after the first are the layer's initial states
    (``inputs: [x, encoder.1, encoder.2]`` is Keras' ``layer(x, initial_state=[...])``)."""
    CALL: ClassVar[str] = "one"
    """How Keras calls the layer on several inputs, for builder, emitted code and importer:
    ``"one"`` (one tensor only), ``"list"`` (``layer([a, b])``: merging layers, Attention),
    ``"positional"`` (``layer(query, value)``: MultiHeadAttention) or ``"states"``
    (``layer(x, initial_state=[h, c])``). Checked against :meth:`infer_many` and
    :attr:`INITIAL_STATE` when the class is declared."""
    VALUE: ClassVar[str | None] = None
    """What the layer makes of values, for the final-activation check (which loss fits):
    ``"argument"`` (its ``activation`` argument says), ``"linear"`` (an affine map:
    Embedding, normalisations), ``"same"`` (passes values on: the check looks at the layer
    before it), ``"inner"`` (a container: its last inner layer says), or the name of the
    activation the layer is (``"softmax"``). No default: a declaration without it is
    refused when the class is declared, so a new layer is never silently see-through."""
    SUBLAYERS: ClassVar[tuple[str, ...]] = ()
    """Automatic names Keras takes for unnamed layers it creates inside this one when it
    builds it (MultiHeadAttention's ``softmax`` and ``dropout``): a later ``Dropout`` is then
    ``dropout_1``. Read from Keras' sources; the static names consume them after the
    layer's own (tests/test_catalog_declarations.py compares with Keras)."""
    MIRRORED: ClassVar[bool] = False
    """Keras keeps the given layer as a copy named ``forward_<name>`` and adds its mirror as
    ``backward_layer`` (Bidirectional): the importer reads the copy as the given layer."""
    MODEL: ClassVar[bool] = False
    """A model used as a layer (a nested ``Sequential``): Keras' ``summary(expand_nested=True)``
    lists its layers under its row."""
    PICTURES: ClassVar[bool] = False
    """Kernels and outputs are images (2D convolutions): the training report draws them."""
    SPEC_ONLY: ClassVar[frozenset[str]] = frozenset()
    """Fields that tell specc, not Keras, something (a lookup's ``adapt_samples``): never
    passed to the Keras constructor."""

    type: str
    name: Identifier | None = None
    _inputs: tuple[str, ...] | None = PrivateAttr(default=None)
    """What a graph spec's layer takes (``inputs: [a, b]``): not a Keras argument, so a
    private attribute, set when the entry is read (see :func:`validate_layer`)."""

    @property
    def inputs(self) -> tuple[str, ...] | None:
        """The references given as ``inputs:``, or None (the previous layer's output)."""
        return self._inputs

    _label: str | None = PrivateAttr(default=None)

    @property
    def label(self) -> str | None:
        """The spec-only name given as ``as:`` for other layers' inputs to use, if any."""
        return self._label

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        tags = typing.get_args(cls.model_fields["type"].annotation)
        if len(tags) == 1 and isinstance(tags[0], str):
            if not cls.KERAS_PATH or cls.KERAS_PATH.endswith("." + cls.__mro__[1].__name__):
                cls.KERAS_PATH = f"layers.{tags[0]}"
            cls.FAMILY = cls.__module__.rsplit(".", 1)[-1]
            cls.NESTED = tuple(
                key for key, field in cls.model_fields.items() if _holds_layers(field.annotation)
            )
            cls.INT_OR_TUPLE = frozenset(
                key
                for key, field in cls.model_fields.items()
                if marked(field.annotation, INT_OR_TUPLE)
                or any(m is INT_OR_TUPLE for m in field.metadata)
            )
            problem = declaration_problem(cls)
            if problem:  # not registered: the catalog holds only complete declarations
                raise TypeError(f"{tags[0]} ({cls.__module__}): {problem}")
            CATALOG.register(tags[0], cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        """Described for editors (:mod:`specc.terms.descriptions`, read only here)."""
        from specc.terms import descriptions

        return descriptions.json_schema(cls, core_schema, handler)

    def rules(self) -> None:
        """Rules across arguments that JSON Schema cannot state (two flags that exclude each
        other): checked in the graph stage, so the published schema and specc's schema
        stage accept the same documents. Raise ShapeError naming the argument."""

    def infer(self, shape: Shape) -> Out:
        """Output shape and parameters for input ``shape``; raise ShapeError if impossible."""
        raise NotImplementedError(self.type)

    def infer_many(self, shapes: list[Shape]) -> Out:
        """Output for several input tensors (a merging or attention layer's inputs)."""
        raise ShapeError(f"{self.type} takes one input tensor, not {len(shapes)}", show_input=False)

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        """A value from Keras' ``get_config()`` as a spec writes it (``specc import``);
        for arguments Keras stores in another form than it takes them."""
        return value

    @classmethod
    def implied(cls, serialized: dict[str, Any]) -> dict[str, Any]:
        """Values Keras' ``get_config()`` writes for arguments a spec leaves out, worked out
        from the saved layer (``specc import`` leaves them out too): MultiHeadAttention's
        ``value_dim`` is its ``key_dim`` when not given."""
        return {}

    def sublayers(self) -> list[LayerSpec]:
        """The layers given inside this one, in the order Python code constructs them."""
        out: list[LayerSpec] = []
        for key in self.NESTED:
            value = getattr(self, key)
            out.extend(value if isinstance(value, list) else [] if value is None else [value])
        return out


VALUES = ("argument", "linear", "same", "inner")
"""The :attr:`LayerSpec.VALUE` roles other than an activation's name."""
CALLS = ("one", "list", "positional", "states")
"""The values of :attr:`LayerSpec.CALL`."""


def declaration_problem(cls: type[LayerSpec]) -> str:
    """What a catalog class fails to declare that the back ends read ("" if nothing).

    Run when a class is declared (a missing fact is an error at import, never a silent
    default) and by the catalog test over every declaration."""
    value = cls.VALUE
    if value is None:
        return (
            "declare VALUE (what the layer makes of values, for the final-activation check): "
            f"one of {', '.join(VALUES)} or an activation's name"
        )
    if value == "argument" and "activation" not in cls.model_fields:
        return "VALUE 'argument' needs an activation argument"
    if value == "inner" and not cls.NESTED:
        return "VALUE 'inner' needs a field holding layers"
    if value not in VALUES and not value.isidentifier():
        return f"VALUE {value!r} is neither a role ({', '.join(VALUES)}) nor an activation name"
    if cls.CALL not in CALLS:
        return f"CALL {cls.CALL!r} is not one of {', '.join(CALLS)}"
    many = cls.infer_many is not LayerSpec.infer_many
    if many != (cls.CALL != "one"):
        return "declare CALL (how Keras takes several inputs): infer_many is " + (
            "given but CALL is 'one'" if many else f"not given but CALL is {cls.CALL!r}"
        )
    if (cls.CALL == "states") != cls.INITIAL_STATE:
        return "INITIAL_STATE and CALL 'states' must agree"
    return ""


class Trainable(LayerSpec):
    """Layers that also take Keras' base ``trainable`` argument (through ``**kwargs``)."""

    trainable: bool = True


class Container(Trainable):
    """A layer holding other layers (wrappers, a nested model).

    Keras 3.15 takes ``trainable=False`` in their constructors without passing it on: the
    row reads frozen, yet the model counts the inner weights as trainable and ``fit``
    trains them. So a spec freezes the inner layers instead.
    """

    def rules(self) -> None:
        if not self.trainable:
            raise ShapeError(
                f"trainable: false on a {self.type} does not freeze the layers inside it "
                "(Keras 3.15 still trains them); set trainable: false on the inner layer(s)",
                "trainable",
                show_input=False,
            )


def format_out(shape: Shape | list[Shape]) -> str:
    """An output shape as Keras' summary prints it; several outputs as a list.

    >>> format_out([(None, 8), (None, 4), (None, 4)])
    '[(None, 8), (None, 4), (None, 4)]'
    >>> format_out((None, 5, 8))
    '(None, 5, 8)'

    Keras joins the sizes itself, so a rank-1 output has no trailing comma (found by the
    differential test on ``EinsumDense('ab,b->a')``):

    >>> format_out((None,))
    '(None)'

    One output in a list (``keras.ops.split(x, 1)``) prints bare, as Keras flattens it:

    >>> format_out([(None, 2)])
    '(None, 2)'
    """
    if isinstance(shape, list) and len(shape) == 1:
        return format_out(shape[0])
    if isinstance(shape, list):
        return "[" + ", ".join(format_out(s) for s in shape) + "]"
    return "(" + ", ".join(str(size) for size in shape) + ")"


def _holds_layers(annotation: Any) -> bool:
    """Whether a field's type is a layer or a list of layers."""
    if isinstance(annotation, type) and issubclass(annotation, LayerSpec):
        return True
    return any(_holds_layers(arg) for arg in typing.get_args(annotation))


# ------------------------------------------------------------------ shared rule helpers
def apply(
    layer: LayerSpec, shape: Shape | list[Shape], source: str = "", *, routed: bool = False
) -> Out:
    """What ``layer`` makes of what the layer before it outputs, as in a Keras stack.

    Several tensors (a multi-output layer before it) reach only a layer that takes them as
    one list; a frozen layer (``trainable: false``) counts all its weights as non-trainable.
    ``routed``: a graph spec gave the layer several ``inputs``, so :meth:`LayerSpec.infer_many`
    judges them (a layer that takes one tensor says so).
    """
    layer.rules()
    scalars = [s for s in (shape if isinstance(shape, list) else [shape]) if s == ()]
    if scalars and not isinstance(layer, OpSpec):  # ops.mean(x) without axis: no batch axis
        raise ShapeError(
            f"{layer.type} takes tensors with a batch axis, not a scalar (); give the "
            "reducing operation before it an axis (e.g. axis: -1)",
            show_input=False,
        )
    if routed and isinstance(shape, list):
        out = layer.infer_many(shape)
    elif isinstance(shape, list):
        if not layer.LIST_INPUT:
            raise ShapeError(
                f"{layer.type} takes one input tensor, but {source or 'the layer before it'} "
                f"outputs {len(shape)}: {format_out(shape)}; take one of them with "
                "inputs: [name.0] (name.1, ...), or end the model with it",
                show_input=False,
            )
        out = layer.infer_many(shape)
    else:
        out = layer.infer(shape)
    if not getattr(layer, "trainable", True):
        out = Out(
            out.shape, 0, out.trainable + out.non_trainable, out.int64_params, largest=out.largest
        )
    return out


def nested(exc: ShapeError, shape: Shape | list[Shape], *where: str | int) -> ShapeError:
    """``exc``, raised by a layer inside another on input ``shape``, located at ``where``
    (e.g. ``"layers", 2``) and naming that inner input rather than the outer one."""
    inner = exc.field if isinstance(exc.field, tuple) else (exc.field,) if exc.field else ()
    message = f"{exc} (input {format_out(shape)})" if exc.show_input else str(exc)
    return ShapeError(message, (*where, *inner), show_input=False)


def need_rank(layer: LayerSpec, shape: Shape, rank: int | Sequence[int], what: str = "") -> None:
    """Refuse an input whose rank (batch axis included) is not ``rank``."""
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    if len(shape) in ranks:
        return
    wanted = " or ".join(f"rank-{r}" for r in ranks)
    raise ShapeError(
        f"{layer.type} needs a {wanted} input{' ' + what if what else ''}, "
        f"but gets {shapes.format_shape(shape)}"
        + ("; it cannot follow Flatten or Dense" if len(shape) == 2 and min(ranks) > 2 else ""),
        show_input=False,
    )


def need_known(layer: LayerSpec, shape: Shape, axis: int, why: str) -> int:
    """The size of ``axis``, which Keras must know to create weights."""
    size = shape[axis]
    if size is None:
        raise ShapeError(
            f"{layer.type} needs a known size on axis {axis} of its input "
            f"{shapes.format_shape(shape)} ({why})",
            show_input=False,
        )
    return size


def spatial_rank(layer: LayerSpec) -> tuple[int, str]:
    """Spatial rank from the class name (``Conv2D`` -> 2) and the input layout it expects."""
    rank = 3 if "3D" in layer.type else 2 if "2D" in layer.type else 1
    layout = {
        1: "(batch, steps, channels)",
        2: "(batch, rows, cols, channels)",
        3: "(batch, depth, rows, cols, channels)",
    }[rank]
    return rank, layout


def identity(layer: LayerSpec, shape: Shape) -> Out:
    return Out(shape)


CODE_LAYERS = frozenset({"Lambda", "TFOpLambda"})
"""Layers that carry Python code: a spec is data, so these are refused with a reason."""


def validate_layer(value: Any) -> LayerSpec:
    """Validate one layer entry with the declaration its ``type`` names (an operation's
    entry, ``{op: add}``, with the declaration its ``op`` names).

    A hand-made discriminated union: only the declarations a spec uses build validators.
    """
    if isinstance(value, LayerSpec):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
    if "op" in value:
        return validate_op(value)
    if "type" not in value:
        raise PydanticCustomError("union_tag_not_found", "needs a 'type' key")
    tag = value["type"]
    cls = CATALOG.get(tag) if isinstance(tag, str) else None
    if cls is None and isinstance(tag, str) and "." in tag:
        from specc.terms.user_code import is_plugin_path

        if is_plugin_path(tag):  # the user's own class: only where --plugin allows it
            from specc.layers.custom import validate_plugin

            return validate_plugin(value)
    if cls is None:
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag {tag} found using 'type' does not match any of the expected tags",
            {
                "discriminator": "'type'",
                "tag": str(tag),
                "expected_tags": ", ".join(repr(t) for t in CATALOG),
            },
        )
    if "inputs" not in value and "as" not in value:
        return cls.model_validate(value)
    value = dict(value)
    routes = _Routes.model_validate({k: value.pop(k) for k in ("inputs", "as") if k in value})
    layer = cls.model_validate(value)
    layer._inputs = tuple(routes.inputs) if routes.inputs is not None else None
    layer._label = routes.as_
    return layer


class OpSpec(LayerSpec):
    """Base of every operation: a ``keras.ops`` function on tensors (``keras.ops.add``),
    which Keras records as a node of a functional model (``add (Add)``, no weights).

    Declared like a layer (a subclass in an operation family's module, registered in
    :data:`OPERATIONS` by its ``op`` names); its ``type`` is the Keras operation class, the
    declaration's class name, which is also its summary row's type and the prefix of its
    automatic name (ops share Keras' name counters with layers: an ``add`` operation
    after an ``Add`` layer is ``add_1``). Its operands are tensors (``inputs``) and
    constants; its other fields are the function's keyword arguments (``axis``).
    """

    KIND: ClassVar[str] = "ops"
    VALUE = "same"
    CALL = "positional"
    MODULE: ClassVar[str] = ""
    """Where Keras defines the operation class: ``keras.src.ops.<MODULE>`` (``numpy``,
    ``nn``); the saved config's ``module``, which the importer checks."""
    OPERANDS: ClassVar[tuple[str, ...]] = ("x",)
    """The function's leading arguments that take a tensor or a constant, as Keras names
    them (``x``; ``x1, x2``): ``inputs`` fills them in order, ``value`` the last one."""
    CONSTANT_OPERANDS: ClassVar[bool] = False
    """Whether an operand may be a number (``x + 3.0``); else each is a tensor."""
    LISTED: ClassVar[bool] = False
    """The function takes its tensors as one list, its one operand (``keras.ops.concatenate
    ([a, b], axis)``, ``stack``): ``inputs`` gives any number of them."""
    OPERATOR: ClassVar[str] = ""
    """The Python operator people write for it (``+``), which Keras records as the same
    operation: emitted code writes ``x + y`` rather than ``keras.ops.add(x, y)``."""
    FUNCTION: ClassVar[str] = ""
    """The ``keras.ops`` function (default: the first ``op`` name; ``image.resize`` for
    one of a submodule)."""
    LEADING: ClassVar[tuple[str, ...]] = ()
    """Arguments the function takes before the tensors (``einsum(subscripts, *operands)``);
    the operation's class takes them as keywords."""
    TRAILING: ClassVar[tuple[str, ...]] = ()
    """Arguments the function and the operation's call take after the tensors
    (``get_item(x, key)``), as :meth:`trailing_arguments` gives them."""

    type: SkipJsonSchema[str] = ""
    op: str
    _operands: tuple[Constant | None, ...] = PrivateAttr(default=())
    """The operands in order: a constant, or None for the next tensor input."""

    @model_validator(mode="before")
    @classmethod
    def _keras_class(cls, data: Any) -> Any:
        """``type`` is the Keras class (the declaration's name), never written in a spec."""
        return {**data, "type": cls.__name__} if isinstance(data, dict) else data

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        tags = typing.get_args(cls.model_fields["op"].annotation)
        if tags and all(isinstance(tag, str) for tag in tags):
            cls.FAMILY = cls.__module__.rsplit(".", 1)[-1]
            cls.FUNCTION = cls.FUNCTION or tags[0]
            cls.KERAS_PATH = f"ops.{cls.FUNCTION}"
            problem = op_declaration_problem(cls)
            if problem:
                raise TypeError(f"{tags[0]} ({cls.__module__}): {problem}")
            for tag in tags:
                OPERATIONS.register(tag, cls)

    @property
    def operands(self) -> tuple[Constant | None, ...]:
        """The operands in order: a constant, or None where a tensor input goes."""
        if self._operands:
            return self._operands
        if self.LISTED:  # made in code: as many tensors as it is given
            return (None,) * len(self._inputs or (None,))
        value = getattr(self, "value", None)  # made in code, not read from a spec entry
        return (None,) * (len(self.OPERANDS) - 1) + (value,)

    def arrange(self, given: list[Any] | None) -> tuple[tuple[str, ...] | None, str]:
        """The tensor references among ``given`` (``inputs``; None: the entry above) and
        the operands set; or a problem ("" if none)."""
        value = getattr(self, "value", None)
        listed: list[Any] = [None] if given is None else list(given)
        if value is not None:
            listed.append(value)
        wanted = len(self.OPERANDS)
        if self.LISTED:  # keras.ops.concatenate([a, b]): any number of tensors, one list
            wanted = len(listed)
        if len(listed) != wanted:
            return None, self.count_problem(len(listed), given is None)
        constants = [v for v in listed if not isinstance(v, str) and v is not None]
        if constants and not self.CONSTANT_OPERANDS:
            return None, f"{self.op} takes tensors, not constants ({constants[0]!r})"
        if len(constants) == len(listed):
            return None, f"{self.op} needs a tensor among its operands, not only constants"
        self._operands = tuple(None if isinstance(v, str) else v for v in listed)
        refs = [v for v in listed if isinstance(v, str)]
        return (tuple(refs) if given is not None else None), ""

    def count_problem(self, count: int, above: bool) -> str:
        names = ", ".join(self.OPERANDS)
        wanted = len(self.OPERANDS)
        text = f"{self.op}({names}) takes {wanted} operand{'s' * (wanted > 1)}, got {count}"
        if above:
            text += " (the entry above)"
        if wanted == 2 and self.CONSTANT_OPERANDS:
            return text + "; give inputs: [a, b] (tensors or numbers), or value: for x2"
        return text + f"; give inputs: with {wanted}"

    def operand_shapes(self, shapes: list[Shape]) -> list[Shape]:
        """Each operand's shape: the tensors' in order, a constant's ``()``."""
        tensors = iter(shapes)
        try:
            return [next(tensors) if v is None else constant_shape(v) for v in self.operands]
        except ValueError as exc:  # an array constant that is not rectangular
            field = "value" if getattr(self, "value", None) is not None else "inputs"
            raise ShapeError(str(exc), field, show_input=False) from None

    def infer(self, shape: Shape) -> Out:
        return self.compute(self.operand_shapes([shape]))

    def infer_many(self, shapes: list[Shape]) -> Out:
        if len(shapes) != sum(v is None for v in self.operands):
            raise ShapeError(
                self.count_problem(len(shapes) + len(self.operands) - 1, False), show_input=False
            )
        return self.compute(self.operand_shapes(shapes))

    def compute(self, shapes: list[Shape]) -> Out:
        """Output for the operands' shapes (the family's rule)."""
        raise NotImplementedError(self.op)

    def keyword_arguments(self) -> dict[str, Any]:
        """The function's arguments after the operands, as the spec states them."""
        return {
            key: getattr(self, key)
            for key in type(self).model_fields
            if key in self.model_fields_set
            and key not in ("type", "op", "name", "value", *self.TRAILING)
        }

    def trailing_arguments(self) -> list[Any]:
        """The :attr:`TRAILING` arguments' values as the function takes them."""
        return [getattr(self, key) for key in self.TRAILING]


Constant = int | float | list[Any] | ArrayOf
"""What an operation takes where it takes a tensor: a number (``x + 3.0``) or an array
(:mod:`specc.layers.constants`)."""


def op_declaration_problem(cls: type[OpSpec]) -> str:
    """What an operation's declaration fails to declare ("" if nothing)."""
    if not cls.MODULE:
        return "declare MODULE (keras.src.ops.<MODULE> defines the operation class)"
    if cls.compute is OpSpec.compute:
        return "declare compute (the shape rule)"
    if cls.LISTED and (cls.CONSTANT_OPERANDS or len(cls.OPERANDS) != 1):
        return "LISTED takes one operand, a list of tensors (no constants)"
    if cls.CONSTANT_OPERANDS and len(cls.OPERANDS) < 2:
        return "CONSTANT_OPERANDS needs two operands (one may be a constant, one a tensor)"
    return ""


def validate_op(value: dict[str, Any]) -> OpSpec:
    """Validate an operation's entry (``{op: add, inputs: [x, 3.0]}``) with the declaration
    its ``op`` names; ``inputs`` may hold numbers where the operation takes constants."""
    tag = value["op"]
    if "type" in value:
        raise PydanticCustomError(
            "op_and_type", "an entry is a layer (type:) or an operation (op:), not both"
        )
    cls = OPERATIONS.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag {tag} found using 'op' does not match any of the expected tags",
            {
                "discriminator": "'op'",
                "tag": str(tag),
                "expected_tags": ", ".join(repr(t) for t in OPERATIONS),
            },
        )
    value = dict(value)
    routes = _OpRoutes.model_validate({k: value.pop(k) for k in ("inputs", "as") if k in value})
    op = typing.cast(OpSpec, cls.model_validate(value))
    refs, problem = op.arrange(routes.inputs)
    if problem:
        raise PydanticCustomError("op_operands", problem)
    op._inputs = refs
    op._label = routes.as_
    return op


class _Routes(BaseModel):
    """A layer entry's ``inputs`` and ``as``, validated apart from the Keras arguments."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, defer_build=True, populate_by_name=True
    )
    inputs: Annotated[list[Ref], Field(min_length=1)] | None = None
    as_: Identifier | None = Field(default=None, alias="as")


class _OpRoutes(BaseModel):
    """An operation's ``inputs`` (tensors by name, or numbers) and ``as``."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, defer_build=True, populate_by_name=True
    )
    as_: Identifier | None = Field(default=None, alias="as")
    inputs: Annotated[list[Ref | Number | ArrayConstant], Field(min_length=1)] | None = None


AS_JSON_SCHEMA = {
    "type": "string",
    "pattern": IDENTIFIER_PATTERN,
    "not": {"enum": sorted(keyword.kwlist)},
    "description": "A label for this layer's output that other layers' inputs may use "
    "(a spec-only name: Keras' name stays the layer's own).",
}
"""``as`` of a layer entry, for JSON Schema (added to every catalog layer's schema)."""


INPUTS_JSON_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "pattern": REF_PATTERN},
    "minItems": 1,
    "description": "What the layer takes, by layer or input name (lstm.1: output 1 of a "
    "layer with several outputs); default: the layer before it, or the model input. For "
    "SimpleRNN, LSTM and GRU, the inputs after the sequence are its initial states.",
}
"""``inputs`` of a layer entry, for JSON Schema (added to every catalog layer's schema)."""


class AnyCatalogLayer:
    """JSON Schema of a layer entry: one of the catalog's declarations (built when asked).

    The union is one definition (``$defs/Layer``), so a layer inside a layer (a wrapper's
    ``layer``, a nested model's ``layers``) refers back to it instead of recursing.
    """

    REF = "Layer"
    _building = False

    @classmethod
    def __get_pydantic_json_schema__(cls, _schema: Any, handler: Any) -> Any:
        if cls._building:  # inside a layer: a reference to the union being built
            return handler.generate_json_schema.get_cache_defs_ref_schema(cls.REF)[1]
        for layer_cls in CATALOG.values():
            layer_cls.model_rebuild()
        union = core_schema.union_schema(
            [layer_cls.__pydantic_core_schema__ for layer_cls in CATALOG.values()], ref=cls.REF
        )
        cls._building = True
        try:  # generate_inner (not handler) files a schema with a ``ref`` under $defs
            return handler.generate_json_schema.generate_inner(union)
        finally:
            cls._building = False


Layer = Annotated[LayerSpec, PlainValidator(validate_layer), SerializeAsAny(), AnyCatalogLayer]
"""The type of a layer entry in a spec (also inside wrappers and nested models)."""


__all__ = [
    "CALLS",
    "CATALOG",
    "CODE_LAYERS",
    "OPERATIONS",
    "VALUES",
    "Container",
    "Layer",
    "LayerSpec",
    "OpSpec",
    "Out",
    "Trainable",
    "apply",
    "declaration_problem",
    "format_out",
    "need_known",
    "need_rank",
    "nested",
    "spatial_rank",
]
