"""Lookup layers: strings and integers to indices, indices to one-hot/multi-hot vectors.

``StringLookup``, ``IntegerLookup``, ``TextVectorization``, ``Hashing``, ``HashedCrossing``,
``CategoryEncoding`` and ``Discretization``, as Keras 3.15 declares them. None has weights
Keras counts, but several output widths depend on a vocabulary: its size (tokens plus the
OOV and mask indices, as Keras counts them) decides the shape of ``one_hot``, ``multi_hot``,
``count`` and ``tf_idf`` outputs and so the parameters of the Dense after them. A table
knows that size statically when the spec gives the vocabulary (inline, or a file of one
token a line, read when the spec is validated, relative to the spec's folder) or
``max_tokens`` with ``pad_to_max_tokens: true``. A layer given no vocabulary is adapted
by ``specc train`` (and the emitted script) on the training data, all of it or the first
``adapt_samples`` samples; before that Keras itself does not know its width, so such a
layer must output indices (``output_mode: int``) or pad to ``max_tokens``.

The shape rules are Keras' ``compute_output_shape`` (tests compare them with Keras).
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, PrivateAttr

from specc.layers.base import Out, Trainable
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import Count, Float, PosInt, Seed

FOLDER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vocabulary_folder", default=None
)
"""The spec's folder while it is resolved: a vocabulary file's relative path starts there."""

MAX_VOCABULARY_BYTES = 256 * 2**20
"""Largest vocabulary file read at validate time (256 MiB)."""

StringVocabulary = Annotated[list[str], Field(min_length=1)]
IntegerVocabulary = Annotated[
    list[Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]], Field(min_length=1)
]
VocabularyFile = Annotated[str, Field(min_length=1)]
IdfWeights = Annotated[list[Float], Field(min_length=1)]
Salt = Seed | Annotated[list[Seed], Field(min_length=2, max_length=2)]

STRINGS = "string"
INT64 = "int64"
FLOAT32 = "float32"


def one_hot_shape(shape: Shape, depth: int | None) -> Shape:
    """Keras' one_hot rule of the lookup layers: a last axis of 1 becomes the depth, any
    other shape gains a depth axis.

    >>> one_hot_shape((None, 1), 5), one_hot_shape((None, 3), 5), one_hot_shape((None,), 5)
    ((None, 5), (None, 3, 5), (None, 5))
    """
    if len(shape) > 1 and shape[-1] == 1:
        return (*shape[:-1], depth)
    return (*shape, depth)


def sample_axis_shape(shape: Shape, depth: int | None) -> Shape:
    """multi_hot, count, tf_idf: the last axis (a sample's tokens) becomes the depth.

    >>> sample_axis_shape((None, 3), 7), sample_axis_shape((None, 2, 3), 7)
    ((None, 7), (None, 2, 7))
    """
    return (*shape[:-1], depth)


def vocabulary_size(tokens: int, num_oov_indices: int, mask: bool, output_mode: str) -> int:
    """Keras' ``vocabulary_size()``: the tokens, the OOV indices, and the mask index (only
    in ``int`` mode, where index 0 is the mask).

    >>> vocabulary_size(3, 1, False, "int"), vocabulary_size(3, 1, True, "int")
    (4, 5)
    >>> vocabulary_size(3, 2, True, "one_hot")     # no mask index outside int mode
    5
    """
    return tokens + num_oov_indices + (1 if mask and output_mode == "int" else 0)


def read_vocabulary(path: str, where: str = "vocabulary") -> tuple[list[str], str]:
    """The tokens of a vocabulary file (one a line, as Keras' TextFileInitializer reads it:
    lines split at ``\\n``, the last newline ending the last line) and its resolved path,
    relative paths taken from the spec's folder; ShapeError naming ``where`` if unreadable."""
    folder = FOLDER.get()
    full = Path(path).expanduser()
    if not full.is_absolute() and folder is not None:
        full = Path(folder) / full
    try:
        size = os.path.getsize(full)
        if size > MAX_VOCABULARY_BYTES:
            raise ShapeError(
                f"vocabulary file {full} holds {size:,} bytes, more than the "
                f"{MAX_VOCABULARY_BYTES:,} specc reads",
                where,
                show_input=False,
            )
        text = full.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not found" if isinstance(exc, FileNotFoundError) else type(exc).__name__
        raise ShapeError(
            f"vocabulary file {full}: {reason}; give a UTF-8 file of one token a line (a "
            "relative path is taken from the spec's folder) or the tokens as a list",
            where,
            show_input=False,
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ShapeError(f"vocabulary file {full} is empty", where, show_input=False)
    return lines, str(full)


def asset_tokens(text: str) -> list[str]:
    """The tokens of a vocabulary Keras saved (``get_vocabulary()`` one a line, the OOV
    and mask tokens first), as a spec lists them.

    >>> asset_tokens("[UNK]\\nred\\nblue\\n")
    ['[UNK]', 'red', 'blue']
    """
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


class _Lookup(Trainable):
    """What every lookup layer shares: its dtype rules and the spec-only ``adapt_samples``."""

    SPEC_ONLY: ClassVar[frozenset[str]] = frozenset({"adapt_samples"})
    DERIVED: ClassVar[frozenset[str]] = frozenset({"vocabulary_size"})
    """Keys of Keras' config that follow from the others (``specc import`` skips them)."""
    VALUE = "linear"

    def reads(self) -> str:
        """What the layer takes: "string" tensors, "number" tensors, or "any"."""
        return "number"

    def output_dtype(self) -> str:
        """The dtype of its output, as Keras' ``compute_output_spec`` gives it."""
        return FLOAT32

    def adapted(self) -> bool:
        """Whether ``specc train`` adapts it (no vocabulary or bins given)."""
        return False

    def adapt_rule(self) -> None:
        if getattr(self, "adapt_samples", None) is not None and not self.adapted():
            raise ShapeError(
                "adapt_samples applies to a layer adapted at train time; this one is given "
                "its vocabulary or bins: remove adapt_samples",
                "adapt_samples",
                show_input=False,
            )


class _IndexLookup(_Lookup):
    """StringLookup and IntegerLookup: Keras' IndexLookup."""

    POSITIONAL = ()
    output_mode: Literal["int", "one_hot", "multi_hot", "count", "tf_idf"] = "int"
    max_tokens: Annotated[int, Field(gt=1)] | None = None
    num_oov_indices: Count = 1
    invert: bool = False
    pad_to_max_tokens: bool = False
    sparse: bool = False
    salt: Salt | None = None
    idf_weights: IdfWeights | None = None
    adapt_samples: PosInt | None = None
    _vocabulary_path: str | None = PrivateAttr(default=None)
    """The vocabulary file's resolved path (found when the spec is validated)."""
    if TYPE_CHECKING:  # declared by each subclass, with its own token type
        vocabulary: Any
        mask_token: Any
        oov_token: Any

    @property
    def vocabulary_path(self) -> str | None:
        """Where the vocabulary file was found (None: inline, adapted, or not yet resolved)."""
        return self._vocabulary_path

    @classmethod
    def learned_vocabulary(cls, config: dict[str, Any], text: str) -> list[Any] | None:
        """An adapted vocabulary, which Keras saves as an asset file (its special tokens
        first), as a spec lists it inline; None if the layer was never adapted."""
        tokens = asset_tokens(text)
        mask = config.get("mask_token") is not None and config.get("output_mode", "int") == "int"
        special = int(mask) + int(config.get("num_oov_indices", 1))
        if len(tokens) <= special:
            return None
        return [int(t) for t in tokens] if cls.__name__ == "IntegerLookup" else tokens

    def adapted(self) -> bool:
        return self.vocabulary is None

    def rules(self) -> None:
        def refuse(message: str, field: str) -> ShapeError:
            return ShapeError(message, field, show_input=False)

        if self.pad_to_max_tokens and self.max_tokens is None:
            raise refuse(
                "pad_to_max_tokens needs max_tokens (the width it pads to)", "pad_to_max_tokens"
            )
        if self.invert and self.output_mode != "int":
            raise refuse("invert maps indices back to tokens: it needs output_mode int", "invert")
        if self.sparse and self.output_mode == "int":
            raise refuse("sparse needs output_mode one_hot, multi_hot, count or tf_idf", "sparse")
        if self.idf_weights is not None and self.output_mode != "tf_idf":
            raise refuse("idf_weights apply to output_mode tf_idf only", "idf_weights")
        vocabulary = self.vocabulary
        if self.output_mode == "tf_idf" and vocabulary is not None and self.idf_weights is None:
            raise refuse("output_mode tf_idf with a vocabulary needs idf_weights", "idf_weights")
        if self.output_mode == "tf_idf" and isinstance(vocabulary, str):
            raise refuse(
                "Keras reads no tf_idf vocabulary from a file: give the tokens as a list",
                "vocabulary",
            )
        if self.salt is not None and getattr(self, "oov_method", "farmhash") != "farmhash":
            raise refuse("salt applies to oov_method farmhash only", "salt")  # integers only
        weights = self.idf_weights
        if isinstance(vocabulary, list) and weights is not None and len(weights) != len(vocabulary):
            raise refuse(
                f"idf_weights has {len(weights)} values, the vocabulary {len(vocabulary)} "
                "tokens: give one weight a token",
                "idf_weights",
            )
        self.adapt_rule()

    def special_tokens(self) -> list[Any]:
        """The mask and OOV tokens Keras lets a vocabulary start with."""
        oov_start = 1 if self.mask_token is not None and self.output_mode == "int" else 0
        return [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices

    def tokens(self) -> list[Any] | None:
        """The vocabulary's tokens (a file read), or None if adapted at train time."""
        vocabulary = self.vocabulary
        if vocabulary is None:
            return None
        if isinstance(vocabulary, str):
            tokens, self._vocabulary_path = read_vocabulary(vocabulary)
            return tokens
        return list(vocabulary)

    def size(self) -> int | None:
        """Keras' ``vocabulary_size()`` once built (None: known only after adapt)."""
        tokens = self.tokens()
        if tokens is None:
            return None
        special = self.special_tokens()
        from_file = isinstance(self.vocabulary, str)
        body = (
            tokens[len(special) :]
            if not from_file and tokens[: len(special)] == special
            else tokens
        )
        repeated = _repeated(body)
        if repeated:
            raise ShapeError(
                f"the vocabulary repeats {', '.join(map(repr, repeated))}; Keras needs each "
                "token once",
                "vocabulary",
                show_input=False,
            )
        mask = self.mask_token
        if mask is not None and mask in body and not from_file:
            raise ShapeError(
                f"the vocabulary holds the mask token {mask!r}; leave it out (Keras adds it)",
                "vocabulary",
                show_input=False,
            )
        if self.invert and self.oov_token in body and not from_file:
            raise ShapeError(
                f"the vocabulary holds the OOV token {self.oov_token!r}; leave it out",
                "vocabulary",
                show_input=False,
            )
        size = len(special) + len(body)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ShapeError(
                f"the vocabulary makes {size} indices (with the OOV and mask ones), more than "
                f"max_tokens {self.max_tokens}",
                "max_tokens",
                show_input=False,
            )
        return size

    def depth(self) -> int | None:
        """The width of a non-int output: max_tokens if padded, else the vocabulary size."""
        size = self.size()  # checked against max_tokens even when padded to it
        return self.max_tokens if self.pad_to_max_tokens else size

    def infer(self, shape: Shape) -> Out:
        if self.output_mode == "int":
            self.size()  # the vocabulary checked (and a file read) all the same
            return Out(shape)
        depth = self.depth()
        if depth is None:
            raise ShapeError(
                f"output_mode {self.output_mode} is as wide as the vocabulary, which an "
                "adapted layer learns only when trained: give the vocabulary (a list or a "
                "file), or max_tokens with pad_to_max_tokens: true",
                "output_mode",
                show_input=False,
            )
        if self.output_mode == "one_hot":
            return Out(one_hot_shape(shape, depth))
        return Out(sample_axis_shape(shape, depth))


def _repeated(tokens: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for t in tokens:
        if t in seen and t not in out:
            out.append(t)
            if len(out) == 3:
                break
        seen.add(t)
    return out


class StringLookup(_IndexLookup):
    """Strings to indices in a vocabulary (or one_hot/multi_hot/count/tf_idf vectors);
    ``invert: true`` maps indices back to strings."""

    type: Literal["StringLookup"]
    max_tokens: Annotated[int, Field(gt=1)] | None = None
    num_oov_indices: Count = 1
    mask_token: str | None = None
    oov_token: str = "[UNK]"
    vocabulary: StringVocabulary | VocabularyFile | None = None
    idf_weights: IdfWeights | None = None
    invert: bool = False
    output_mode: Literal["int", "one_hot", "multi_hot", "count", "tf_idf"] = "int"
    pad_to_max_tokens: bool = False
    sparse: bool = False
    encoding: str = "utf-8"
    salt: Salt | None = None

    def reads(self) -> str:
        return "number" if self.invert else STRINGS

    def output_dtype(self) -> str:
        return STRINGS if self.invert else INT64 if self.output_mode == "int" else FLOAT32


class IntegerLookup(_IndexLookup):
    """Integers to indices in a vocabulary (or one_hot/multi_hot/count/tf_idf vectors)."""

    type: Literal["IntegerLookup"]
    max_tokens: Annotated[int, Field(gt=1)] | None = None
    num_oov_indices: Count = 1
    mask_token: int | None = None
    oov_token: int = -1
    vocabulary: IntegerVocabulary | VocabularyFile | None = None
    vocabulary_dtype: Literal["int64"] = "int64"
    idf_weights: IdfWeights | None = None
    invert: bool = False
    output_mode: Literal["int", "one_hot", "multi_hot", "count", "tf_idf"] = "int"
    sparse: bool = False
    pad_to_max_tokens: bool = False
    oov_method: Literal["floormod", "farmhash"] = "floormod"
    salt: Salt | None = None

    def output_dtype(self) -> str:
        return INT64 if self.output_mode == "int" else FLOAT32

    def tokens(self) -> list[Any] | None:
        tokens = super().tokens()
        if tokens is not None and isinstance(self.vocabulary, str):
            bad = next((t for t in tokens if not _is_int(t)), None)
            if bad is not None:
                raise ShapeError(
                    f"vocabulary file {self._vocabulary_path}: {bad!r} is not an integer",
                    "vocabulary",
                    show_input=False,
                )
            return [int(t) for t in tokens]
        return tokens


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


class TextVectorization(_Lookup):
    """Text to token indices (or multi_hot/count/tf_idf vectors): standardise, split into
    words or characters, form n-grams, look each up in the vocabulary."""

    type: Literal["TextVectorization"]
    max_tokens: Annotated[int, Field(gt=1)] | None = None
    standardize: Literal["lower_and_strip_punctuation", "lower", "strip_punctuation"] | None = (
        "lower_and_strip_punctuation"
    )
    split: Literal["whitespace", "character"] | None = "whitespace"
    ngrams: PosInt | Annotated[list[PosInt], Field(min_length=1)] | None = None
    output_mode: Literal["int", "multi_hot", "count", "tf_idf"] = "int"
    output_sequence_length: PosInt | None = None
    pad_to_max_tokens: bool = False
    vocabulary: StringVocabulary | VocabularyFile | None = None
    idf_weights: IdfWeights | None = None
    sparse: bool = False
    ragged: bool = False
    encoding: str = "utf-8"
    adapt_samples: PosInt | None = None
    _vocabulary_path: str | None = PrivateAttr(default=None)

    @property
    def vocabulary_path(self) -> str | None:
        return self._vocabulary_path

    @classmethod
    def learned_vocabulary(cls, config: dict[str, Any], text: str) -> list[str] | None:
        """An adapted vocabulary from the assets (mask ``""`` and OOV first in int mode);
        None if the layer was never adapted."""
        tokens = asset_tokens(text)
        return (
            tokens
            if len(tokens) > (2 if config.get("output_mode", "int") == "int" else 1)
            else None
        )

    def reads(self) -> str:
        return STRINGS

    def output_dtype(self) -> str:
        return INT64 if self.output_mode == "int" else FLOAT32

    def adapted(self) -> bool:
        return self.vocabulary is None

    def rules(self) -> None:
        def refuse(message: str, field: str) -> ShapeError:
            return ShapeError(message, field, show_input=False)

        if self.output_mode != "int" and self.output_sequence_length is not None:
            raise refuse(
                "output_sequence_length applies to output_mode int", "output_sequence_length"
            )
        if self.ragged and self.output_mode != "int":
            raise refuse("ragged applies to output_mode int", "ragged")
        if self.ragged and self.output_sequence_length is not None:
            raise refuse(
                "ragged outputs have no fixed length: remove output_sequence_length", "ragged"
            )
        if self.sparse and self.output_mode == "int":
            raise refuse("sparse needs output_mode multi_hot, count or tf_idf", "sparse")
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise refuse(
                "pad_to_max_tokens needs max_tokens (the width it pads to)", "pad_to_max_tokens"
            )
        if self.idf_weights is not None and self.output_mode != "tf_idf":
            raise refuse("idf_weights apply to output_mode tf_idf only", "idf_weights")
        if (
            self.output_mode == "tf_idf"
            and self.vocabulary is not None
            and self.idf_weights is None
        ):
            raise refuse("output_mode tf_idf with a vocabulary needs idf_weights", "idf_weights")
        self.adapt_rule()

    def lookup(self) -> StringLookup:
        """The StringLookup Keras makes inside it (mask token ``""``)."""
        args: dict[str, Any] = {
            "type": "StringLookup",
            "max_tokens": self.max_tokens,
            "mask_token": "",
            "output_mode": self.output_mode,
            "pad_to_max_tokens": self.pad_to_max_tokens,
        }
        if self.vocabulary is not None:
            args["vocabulary"] = self.vocabulary
        if self.idf_weights is not None:
            args["idf_weights"] = self.idf_weights
        return StringLookup.model_validate(args)

    def infer(self, shape: Shape) -> Out:
        lookup = self.lookup()
        lookup.size()  # the vocabulary checked (and a file read)
        self._vocabulary_path = lookup.vocabulary_path
        if self.output_mode == "int":
            return Out((shape[0], self.output_sequence_length))
        shape = (*shape, 1) if self.split is None and len(shape) <= 1 else shape
        shape = shape if self.split is None else (*shape, None)
        return lookup.infer(shape)


class Hashing(_Lookup):
    """Strings or integers hashed into ``num_bins`` bins (FarmHash64; SipHash with a salt)."""

    POSITIONAL = ("num_bins",)
    MINIMAL: ClassVar[dict[str, Any]] = {"num_bins": 2}
    type: Literal["Hashing"]
    num_bins: PosInt
    mask_value: str | int | None = None
    salt: Salt | None = None
    output_mode: Literal["int", "one_hot", "multi_hot", "count"] = "int"
    sparse: bool = False

    def reads(self) -> str:
        return "any"  # strings or integers

    def output_dtype(self) -> str:
        return INT64 if self.output_mode == "int" else FLOAT32

    def rules(self) -> None:
        if self.sparse and self.output_mode == "int":
            raise ShapeError(
                "sparse needs output_mode one_hot, multi_hot or count", "sparse", show_input=False
            )
        self.adapt_rule()

    def infer(self, shape: Shape) -> Out:
        if self.output_mode == "int":
            return Out(shape)
        return Out(sample_axis_shape(shape, self.num_bins))


class HashedCrossing(_Lookup):
    """Two categorical features crossed (each pair of values) and hashed into ``num_bins``."""

    POSITIONAL = ("num_bins",)
    MINIMAL: ClassVar[dict[str, Any]] = {"num_bins": 2}
    CALL = "list"
    LIST_INPUT = True
    type: Literal["HashedCrossing"]
    num_bins: PosInt
    output_mode: Literal["int", "one_hot"] = "int"
    sparse: bool = False

    def reads(self) -> str:
        return "any"  # strings or integers

    def output_dtype(self) -> str:
        return INT64 if self.output_mode == "int" else FLOAT32

    def infer(self, shape: Shape) -> Out:
        raise ShapeError(
            "HashedCrossing crosses two tensors: give inputs: [a, b]", show_input=False
        )

    def infer_many(self, shapes: list[Shape]) -> Out:
        return Out(crossing_shape(shapes, self.output_mode, self.num_bins))


def crossing_shape(shapes: list[Shape], output_mode: str, num_bins: int) -> Shape:
    """HashedCrossing's output: its first input's shape, or with ``num_bins`` for one_hot.

    >>> crossing_shape([(None, 1), (None, 1)], "one_hot", 8)
    (None, 8)
    >>> crossing_shape([(None, 2), (None, 2)], "one_hot", 8), crossing_shape([(None, 1), (None, 1)], "int", 8)
    ((None, 2, 8), (None, 1))
    """
    if len(shapes) != 2:
        raise ShapeError(
            f"HashedCrossing crosses exactly two tensors, not {len(shapes)}", show_input=False
        )
    if shapes[0][-1] != shapes[1][-1]:
        raise ShapeError(
            "HashedCrossing needs its two inputs of the same last axis, got "
            f"{shapes[0][-1]} and {shapes[1][-1]}",
            show_input=False,
        )
    first = tuple(shapes[0])
    if output_mode == "int":
        return first
    if first[-1] != 1:
        return (*first, num_bins)
    return (*first[:-1], num_bins)


class CategoryEncoding(_Lookup):
    """Integer indices in ``[0, num_tokens)`` to one_hot, multi_hot or count vectors."""

    POSITIONAL = ("num_tokens",)
    MINIMAL: ClassVar[dict[str, Any]] = {"num_tokens": 2}
    type: Literal["CategoryEncoding"]
    num_tokens: PosInt | None = None
    output_mode: Literal["multi_hot", "one_hot", "count"] = "multi_hot"
    sparse: bool = False

    def rules(self) -> None:
        if self.num_tokens is None:
            raise ShapeError(
                "give num_tokens, the number of distinct indices (for tokens not known "
                "beforehand, use IntegerLookup)",
                "num_tokens",
                show_input=False,
            )

    def infer(self, shape: Shape) -> Out:
        assert self.num_tokens is not None  # rules() refuses None
        return Out(category_encoding_shape(shape, self.output_mode, self.num_tokens))


def category_encoding_shape(shape: Shape, output_mode: str, num_tokens: int) -> Shape:
    """CategoryEncoding's output (Keras' ``compute_output_shape``).

    >>> category_encoding_shape((None, 1), "one_hot", 4), category_encoding_shape((None,), "one_hot", 4)
    ((None, 4), (None, 4))
    >>> category_encoding_shape((None, 3), "one_hot", 4), category_encoding_shape((None, 3), "multi_hot", 4)
    ((None, 3, 4), (None, 4))
    """
    if output_mode == "one_hot":
        if shape[-1] != 1 or len(shape) == 1:
            return (*shape, num_tokens)
        return (*shape[:-1], num_tokens)
    return (*shape[:-1], num_tokens)


class Discretization(_Lookup):
    """Numbers to bucket indices (or one_hot/multi_hot/count vectors), by boundaries given
    or learned by adapt (``num_bins`` quantiles)."""

    MINIMAL: ClassVar[dict[str, Any]] = {"num_bins": 2}
    type: Literal["Discretization"]
    bin_boundaries: Annotated[list[Float], Field(min_length=1)] | None = None
    num_bins: Count | None = None
    epsilon: Float = 0.01
    output_mode: Literal["int", "one_hot", "multi_hot", "count"] = "int"
    sparse: bool = False
    adapt_samples: PosInt | None = None

    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else FLOAT32

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        """Keras stores the boundaries it learned beside ``num_bins``; the boundaries say it
        all (the importer drops ``num_bins`` then, see :meth:`imported`)."""
        return value

    @classmethod
    def imported(cls, entry: dict[str, Any]) -> dict[str, Any]:
        """An adapted layer's saved config holds both bin_boundaries and num_bins."""
        if entry.get("bin_boundaries") is not None:
            entry.pop("num_bins", None)
        return entry

    def adapted(self) -> bool:
        return self.bin_boundaries is None

    def rules(self) -> None:
        def refuse(message: str, field: str) -> ShapeError:
            return ShapeError(message, field, show_input=False)

        if self.num_bins is not None and self.bin_boundaries is not None:
            raise refuse("give bin_boundaries or num_bins (to adapt), not both", "num_bins")
        if self.num_bins is None and self.bin_boundaries is None:
            raise refuse(
                "give bin_boundaries, or num_bins for specc train to learn them (adapt)",
                "bin_boundaries",
            )
        if self.sparse and self.output_mode == "int":
            raise refuse("sparse needs output_mode one_hot, multi_hot or count", "sparse")
        if self.bin_boundaries is not None and self.bin_boundaries != sorted(self.bin_boundaries):
            raise refuse("bin_boundaries must be in increasing order", "bin_boundaries")
        self.adapt_rule()

    def infer(self, shape: Shape) -> Out:
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return Out(discretization_shape(shape, self.output_mode, depth))  # type: ignore[arg-type]  # rules() checked one of them is given


def discretization_shape(shape: Shape, output_mode: str, depth: int) -> Shape:
    """Discretization's output (Keras' ``compute_output_shape``, its quirks included: for
    multi_hot and count it drops axis 1).

    >>> discretization_shape((None, 1), "one_hot", 4), discretization_shape((None, 3), "one_hot", 4)
    ((None, 4), (None, 3, 4))
    >>> discretization_shape((None, 3), "multi_hot", 4), discretization_shape((None, 2, 3), "count", 4)
    ((None, 4), (None, 3, 4))
    """
    if output_mode == "int":
        return shape
    if output_mode == "one_hot":
        if shape and shape[-1] == 1 and len(shape) > 1:
            return (*shape[:-1], depth)
        return (*shape, depth)
    if shape and len(shape) >= 2:
        return (shape[0], *shape[2:], depth)
    return (depth,)


def lookup_adapts(graph: Any) -> dict[str, int | None]:
    """The lookup layers of a resolved graph given no vocabulary or bins, by Keras name:
    how many training samples each adapts on (None: the whole training split)."""
    return {
        layer.name: getattr(layer.spec, "adapt_samples", None)
        for layer in graph.layers
        if isinstance(layer.spec, _Lookup) and layer.spec.adapted()
    }


__all__ = [
    "CategoryEncoding",
    "Discretization",
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "StringLookup",
    "TextVectorization",
]
