"""A mutation fuzzer over every spec in the repo, run through the real command line.

Each case takes one seed spec (specs/, tests/cases/*/spec.yaml, tests/golden/specs/) and
applies one to three seeded mutations: line and character edits, YAML 1.1 habits, tags,
anchors, aliases and merge keys, CRLF/BOM/odd line breaks, huge and non-finite numbers,
names that clash. Bombs (``bench/bomb_speed.py``): small files that expand to a lot through
blocks (fan-out, ``each:``, a big value repeated), variants (thousands of ``set:`` paths)
and wide YAML, each validated in its own process. Whatever comes out, ``specc validate`` must exit 0, 1 or 2, print no
traceback and no internal error, put every error on one located line, and take under
2 s of CPU. Accepted mutants must also summarise; under ``-m slow`` thousands of cases
run and a sample of accepted mutants is built in Keras: accepted means Keras builds it.

Case ``n`` is ``mutant(n)``: deterministic, so a failure names the case to replay.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from specc.analysis.graph import MAX_MODEL_WEIGHTS
from specc.language.loader import load_file
from tests.helpers import CASES, ROOT, SPECS, bench_module, run_specc

SEEDS: list[Path] = sorted(
    [
        *SPECS.glob("*.yaml"),
        *CASES.glob("*/spec.yaml"),
        *(ROOT / "tests" / "golden" / "specs").glob("*.yaml"),
    ]
)
SEED_TEXTS = [p.read_text(encoding="utf-8", errors="replace") for p in SEEDS]
VALID_SEEDS = [
    i
    for i, p in enumerate(SEEDS)
    if "cases" not in p.parts or (p.parent / "expected.json").exists()
]
"""Valid specs are drawn more often, so that many mutants are accepted (and built)."""
DEFAULT_CASES = 320
SLOW_CASES = 4000
MAX_CPU_SECONDS = 2.0

LOCATED = re.compile(r"^.+:\d+:\d+: error: .+$")
SUMMARY = re.compile(r"^\d+ valid, \d+ invalid$")

YAML11 = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "1:30", "010", "0o10",
          "0x1F", "1_000", "0b101", "1e-3", "1E3", ".5", "+1", "~", "null", "=", "2018-04-01",
          "2001-12-14t21:59:43.10-05:00", "<<", "-0", "1.", "0.", "'yes'", '"010"']  # fmt: skip
NUMBERS = ["0", "-1", "1", "3", "2147483648", "4294967296", "18446744073709551616",
           "1099511627776", "9" * 40, "1" + "0" * 400, "1" + "0" * 1200, "1e309", "-1e309",
           "1.0e+309", "1e-400", ".inf", "-.inf", ".Inf", ".nan", ".NaN", "-0.0", "0.5",
           "0.999999999", "1.0", "1e-30", "0x7fffffff", "0o777"]  # fmt: skip
TAGS = ["!!int ", "!!float ", "!!bool ", "!!null ", "!!str ", "!!binary ", "!!timestamp ",
        "!!python/object:os.system ", "!custom ", "! ", "!!seq ", "!!map ", "!!set ",
        "!!omap ", "!<tag:yaml.org,2002:int> "]  # fmt: skip
NAMES = ["input_layer", "json", "numpy", "keras", "time", "argparse", "class", "my-model",
         "dense", "dense_1", "x" * 300, "é", "_", "None"]  # fmt: skip
KEYS = ["clipnorm: 1.0", "global_clipnorm: 1.0", "clipnorm: 1.0, global_clipnorm: 1.0",
        "clipvalue: 0.5", "seed: 4294967296", "name: input_layer", "<<: *nope", "? complex",
        "[a]: 1", "null: 1", "1: 1", "type: Lambda", "units: 0", "rate: 1.0",
        "dtype: float16"]  # fmt: skip
CHARS = [*":-[]{},&*!|>'\"#%@`?\t\n\r ", "\ufeff", "\x85", "\u2028", "\x00", "é", "😀",
                                             "\x1b", "\\", "0", "a", "."]  # fmt: skip
TOKEN = re.compile(r"(?<=[\s\[{,:])([A-Za-z0-9_.+-]+)(?=[\s,\]}]|$)", re.M)


def _value_span(text: str, rng: random.Random) -> tuple[int, int] | None:
    spans = [m.span() for m in TOKEN.finditer(text)]
    return rng.choice(spans) if spans else None


def _replace_value(text: str, rng: random.Random, words: list[str]) -> str:
    span = _value_span(text, rng)
    if span is None:
        return text
    return text[: span[0]] + rng.choice(words) + text[span[1] :]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def m_delete_line(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def m_duplicate_line(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "\n".join(lines)


def m_swap_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def m_indent(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i] = rng.choice(["", " ", "  ", "\t", "    "]) + lines[i].lstrip(" ")
    return "\n".join(lines)


def m_char(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    op = rng.randrange(3)
    if op == 0 and text:
        return text[: max(i - 1, 0)] + text[i:]
    c = rng.choice(CHARS)
    return text[:i] + c + text[i + (op == 2) :]


def m_yaml11(text: str, rng: random.Random) -> str:
    return _replace_value(text, rng, YAML11)


def m_number(text: str, rng: random.Random) -> str:
    return _replace_value(text, rng, NUMBERS)


def m_tag(text: str, rng: random.Random) -> str:
    span = _value_span(text, rng)
    if span is None:
        return text
    return text[: span[0]] + rng.choice(TAGS) + text[span[0] :]


def m_anchor_alias(text: str, rng: random.Random) -> str:
    """An anchor on one value and an alias (or a dangling or recursive one) on another."""
    spans = [m.span() for m in TOKEN.finditer(text)]
    if len(spans) < 2:
        return text
    (a0, a1), (b0, b1) = sorted(rng.sample(spans, 2))
    alias = rng.choice(["*x", "*x", "*nope", "[*x, *x, *x]"])
    return text[:a0] + "&x " + text[a0:a1] + text[a1:b0] + alias + text[b1:]


def m_merge(text: str, rng: random.Random) -> str:
    """A merge key inside a flow mapping: of an anchored mapping, itself, a list, junk."""
    opens = [m.end() for m in re.finditer(r"\{", text)]
    if not opens:
        return text
    i = rng.choice(opens)
    kind = rng.randrange(5)
    if kind == 0:  # anchor this mapping and merge it into itself
        return text[: i - 1] + "&m {<<: *m, " + text[i:]
    if kind == 1:  # anchor this mapping, merge it (many times) into another one
        later = [j for j in opens if j > i]
        if not later:
            return text
        j = rng.choice(later)
        n = rng.choice([1, 2, 10])
        merged = ", ".join(["*m"] * n)
        return text[: i - 1] + "&m {" + text[i:j] + f"<<: [{merged}], " + text[j:]
    junk = rng.choice(["<<: 3, ", "<<: [1, 2], ", "<<: *nope, ", "<<: {}, ", "<<: [{a: 1}], "])
    return text[:i] + junk + text[i:]


def m_line_breaks(text: str, rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return text.replace("\n", "\r\n")
    if kind == 1:
        return "\ufeff" + text
    if kind == 2:
        return text.replace("\n", "\r")
    if kind == 3:
        return text.rstrip("\n")
    if kind == 4:
        return text.replace("\n", " \n")
    return text.replace("\n", rng.choice(["\x85", "\u2028"]), 1)


def m_document(text: str, rng: random.Random) -> str:
    return rng.choice(["---\n" + text, text + "\n---\n" + text, "%YAML 1.1\n---\n" + text,
                       "%YAML 1.2\n---\n" + text, text + "\n...\n", "%TAG ! tag:x,2000:\n---\n"
                       + text])  # fmt: skip


def m_name(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    layer_lines = [i for i, line in enumerate(lines) if "type:" in line and "{" in line]
    name = rng.choice(NAMES)
    if layer_lines and rng.random() < 0.6:
        i = rng.choice(layer_lines)
        lines[i] = lines[i].replace("{", "{name: " + name + ", ", 1)
        return "\n".join(lines)
    return re.sub(r"(?m)^name: .*$", "name: " + name, text, count=1)


def m_key(text: str, rng: random.Random) -> str:
    opens = [m.end() for m in re.finditer(r"\{", text)]
    if not opens:
        return text
    i = rng.choice(opens)
    return text[:i] + rng.choice(KEYS) + ", " + text[i:]


FLOAT_EDGES = [".inf", "-.inf", ".nan", "1e309", "1.0e+309", "-1e309", "1e-400", "0", "-0.0",
               "1e30", "0.999999", "1"]  # fmt: skip
INT_EDGES = ["2147483648", "4294967295", "4294967296", "18446744073709551616",
             "1099511627776", "0", "-1", "1"]  # fmt: skip
EDGE_KEYS = {
    **dict.fromkeys(["learning_rate", "rate", "l1", "l2", "epsilon", "momentum", "rho",
                     "beta_1", "beta_2", "divide", "clipnorm", "clipvalue", "global_clipnorm",
                     "weight_decay", "factor", "min_delta", "validation_split"], FLOAT_EDGES),
    **dict.fromkeys(["seed", "units", "filters", "epochs", "batch_size", "patience",
                     "pool_size", "kernel_size", "strides", "one_hot"], INT_EDGES),
}  # fmt: skip
EDGE = re.compile(r"\b(" + "|".join(EDGE_KEYS) + r"): *([^,}\]\n#]+)")


def m_edge_value(text: str, rng: random.Random) -> str:
    """The value of a numeric key (learning_rate, seed, units...) at an edge Keras may refuse."""
    found = list(EDGE.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[: m.start(2)] + rng.choice(EDGE_KEYS[m.group(1)]) + text[m.end(2) :]


OPTIMIZERS = ["{type: Adam, clipnorm: 1.0, global_clipnorm: 1.0}",
              "{type: SGD, clipvalue: 0.5, clipnorm: 1.0}", "{type: RMSprop, learning_rate: .inf}",
              "{type: Adam, learning_rate: 1e-3, weight_decay: 1e309}", "{type: AdamW}",
              "{type: Nadam, beta_1: 1, beta_2: 0}", "{type: SGD, momentum: 1.5}", "adam",
              "Adam", "{type: Adadelta, rho: .nan}", "{type: Adagrad, epsilon: 0}"]  # fmt: skip


def m_optimizer(text: str, rng: random.Random) -> str:
    """The compile section's optimizer, replaced by one with an odd combination."""
    found = re.search(r"(?m)^(\s*optimizer:) .*$", text)
    if found is None:
        return text
    return text[: found.end(1)] + " " + rng.choice(OPTIMIZERS) + text[found.end() :]


MUTATIONS = [m_delete_line, m_duplicate_line, m_swap_lines, m_indent, m_char, m_char,
             m_yaml11, m_yaml11, m_number, m_number, m_tag, m_anchor_alias, m_merge,
             m_line_breaks, m_document, m_name, m_key, m_key, m_edge_value, m_edge_value,
             m_edge_value, m_optimizer]  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    case: int
    seed_file: str
    mutations: tuple[str, ...]
    text: str

    def describe(self) -> str:
        shown = self.text if len(self.text) <= 600 else self.text[:600] + "..."
        return (
            f"case {self.case} (mutant({self.case})): {self.seed_file} + "
            f"{', '.join(self.mutations)}\n{shown!r}"
        )


def mutant(case: int) -> Mutant:
    """The ``case``-th mutant: the same text on every run and machine."""
    rng = random.Random(case)
    k = rng.choice(VALID_SEEDS) if rng.random() < 0.6 else rng.randrange(len(SEEDS))
    text = SEED_TEXTS[k]
    applied = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        mutate = rng.choice(MUTATIONS)
        text = mutate(text, rng)
        applied.append(mutate.__name__[2:])
    return Mutant(case, str(SEEDS[k].relative_to(ROOT)), tuple(applied), text)


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))


def check_output(code: int, stdout: str, stderr: str) -> list[str]:
    """What is wrong with one run of ``specc validate FILE`` (empty: nothing)."""
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"exit code {code}")
    for stream in (stdout, stderr):
        if "Traceback" in stream:
            problems.append("a traceback")
        if "internal error" in stream:
            problems.append("an internal error: " + stream.strip()[-300:])
    if code == 0 and not stdout.strip().endswith("params)"):
        problems.append(f"exit 0 without an ok line: {stdout!r}")
    if code != 0:
        lines = [line for line in stderr.splitlines() if not SUMMARY.match(line)]
        if not lines:
            problems.append("failed without saying why")
        bad = [line for line in lines if not LOCATED.match(line)]
        if bad:
            problems.append(f"not a located one-line error: {bad[0][:200]!r}")
    return problems


# ------------------------------------------------------- accepted means Keras builds it
KNOWN_OPEN: dict[str, str] = {}
"""Kinds of accepted-but-Keras-refuses mutants tolerated for now, with the reason (a kind
found by :func:`known_open` and not listed here fails the suite). Empty: issue 8's schema
fixes made validate refuse every kind the fuzzer found."""
WEIGHTS_TOO_BIG = MAX_MODEL_WEIGHTS
"""More parameters than validate allows a model (32 GiB of float32)."""
BUILD_PARAM_LIMIT = 20_000_000
"""Accepted mutants between this and WEIGHTS_TOO_BIG are valid but not built here (memory
and time of the test machine); the static parameter count is checked against Keras by
tests/test_differential.py."""


def _walk(value: Any) -> list[tuple[str, Any]]:
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((str(k), v))
            out += _walk(v)
    elif isinstance(value, list):
        for v in value:
            out += _walk(v)
    return out


def known_open(data: dict, params: int) -> str | None:
    """The KNOWN_OPEN reason an accepted spec falls under, if any."""
    pairs = _walk(data)
    if any(isinstance(v, float) and not math.isfinite(v) for _, v in pairs):
        return "non_finite_float"
    if any(k == "seed" and isinstance(v, int) and v >= 2**32 for k, v in pairs):
        return "seed_over_32_bits"
    optimizer = (data.get("compile") or {}).get("optimizer")
    clips = {"clipnorm", "clipvalue", "global_clipnorm"}
    if isinstance(optimizer, dict) and len(clips & set(optimizer)) > 1:
        return "several_gradient_clips"
    layers = (data.get("model") or {}).get("layers") or []
    if any(isinstance(layer, dict) and layer.get("name") == "input_layer" for layer in layers):
        return "layer_named_input_layer"  # the model itself may be called so (Keras allows it)
    if params > WEIGHTS_TOO_BIG:
        return "weights_too_big"
    return None


def run_case(m: Mutant, folder: Path) -> tuple[list[str], bool]:
    """Validate one mutant in-process; also summarise it when accepted."""
    spec = folder / f"case{m.case}.yaml"
    _write(spec, m.text)
    start = time.process_time()
    run = run_specc("validate", spec.name, cwd=folder)
    cpu = time.process_time() - start
    problems = check_output(run.exit_code, run.stdout, run.stderr)
    if cpu > MAX_CPU_SECONDS:
        problems.append(f"validate took {cpu:.2f} s of CPU")
    if run.exit_code == 0:
        for fmt in ("text", "json"):
            summary = run_specc("summary", spec.name, "--format", fmt, cwd=folder)
            if summary.exit_code != 0 or "Traceback" in summary.stderr:
                problems.append(f"accepted but summary --format {fmt} failed: {summary.stderr}")
        params = json.loads(summary.stdout)["total_params"] if summary.exit_code == 0 else 0
        reason = known_open(load_file(spec).data, params)
        if reason in KNOWN_OPEN:
            TOLERATED.setdefault(reason, set()).add(m.case)
        elif reason is not None:
            problems.append(f"accepted, but {reason}: Keras refuses it")
    return problems, run.exit_code == 0


TOLERATED: dict[str, set[int]] = {}
"""Accepted mutants that fall under KNOWN_OPEN, by reason (printed by the slow tests)."""


def _fuzz(cases: range, folder: Path) -> tuple[list[str], list[Mutant]]:
    failures, accepted = [], []
    for case in cases:
        m = mutant(case)
        try:
            problems, ok = run_case(m, folder)
        except Exception as exc:  # a crash in the CLI runner itself: report the case
            problems, ok = [f"raised {type(exc).__name__}: {exc}"], False
        if problems:
            failures.append(m.describe() + "\n  -> " + "; ".join(problems))
        if ok:
            accepted.append(m)
    return failures, accepted


CHUNKS = 4


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_validate(chunk, tmp_path):
    """A few hundred mutants (in 4 chunks, for xdist): no traceback, located errors, fast."""
    size = DEFAULT_CASES // CHUNKS
    cases = range(chunk * size, (chunk + 1) * size)
    failures, _ = _fuzz(cases, tmp_path)
    assert not failures, "\n\n".join(failures)
    for reason, found in sorted(TOLERATED.items()):
        if mine := sorted(c for c in found if c in cases):
            warnings.warn(f"KNOWN_OPEN {reason}: validate accepts cases {mine}", stacklevel=1)


def test_fuzz_mutations_are_varied():
    """The fuzzer really explores: each mutation is drawn, and accepted and refused both occur."""
    drawn = {name for case in range(DEFAULT_CASES) for name in mutant(case).mutations}
    assert drawn == {f.__name__[2:] for f in MUTATIONS}
    assert mutant(7) == mutant(7)
    texts = {mutant(case).text for case in range(DEFAULT_CASES)}
    assert len(texts) > DEFAULT_CASES * 0.9


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_fuzz_in_a_subprocess(tmp_path):
    """The installed entry point, in its own process, on a few of the oddest mutants."""
    picked = [mutant(case) for case in range(DEFAULT_CASES)]
    odd = [
        m for m in picked if {"line_breaks", "merge", "tag", "number", "char"} & set(m.mutations)
    ]
    for m in odd[:6]:
        spec = tmp_path / f"case{m.case}.yaml"
        _write(spec, m.text)
        before = _child_cpu()
        run = subprocess.run(
            [sys.executable, "-m", "specc", "validate", spec.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        problems = check_output(run.returncode, run.stdout, run.stderr)
        assert not problems, m.describe() + "\n" + "; ".join(problems)
        assert _child_cpu() - before < MAX_CPU_SECONDS + 1.5  # + interpreter start-up


@functools.cache
def _slow_run() -> tuple[list[str], list[Mutant]]:
    """The thousands of slow cases, run once per process for both slow tests."""
    with tempfile.TemporaryDirectory() as folder:
        return _fuzz(range(DEFAULT_CASES, DEFAULT_CASES + SLOW_CASES), Path(folder))


@pytest.mark.slow
def test_fuzz_validate_thousands():
    failures, accepted = _slow_run()
    print(f"\n{SLOW_CASES} mutants, {len(accepted)} accepted")
    _print_tolerated()
    assert not failures, "\n\n".join(failures[:30]) + f"\n\n({len(failures)} in all)"


def _print_tolerated() -> None:
    for reason, cases in sorted(TOLERATED.items()):
        shown = sorted(cases)
        print(f"KNOWN_OPEN {reason} ({KNOWN_OPEN[reason]}): {len(shown)} cases: {shown[:40]}")


@pytest.mark.slow
@pytest.mark.keras
def test_accepted_mutants_build_in_keras(tmp_path):
    """A sample of accepted mutants builds and compiles in Keras, or is a KNOWN_OPEN case."""
    import specc
    from tests.keras_helpers import keras

    _, accepted = _slow_run()
    sample = accepted[:: max(1, len(accepted) // 250)]
    failures, refused, not_built = [], {}, []
    for m in sample:
        spec = tmp_path / f"case{m.case}.yaml"
        _write(spec, m.text)
        params = specc.summary(spec)["total_params"]
        reason = known_open(load_file(spec).data, params)
        if params > BUILD_PARAM_LIMIT:
            if reason is None:
                not_built.append(m.case)
            continue
        keras().backend.clear_session()
        try:
            specc.build_model(spec)
        except Exception as exc:
            line = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            if reason in KNOWN_OPEN:
                refused.setdefault(reason, []).append(f"case {m.case}: {line}")
            else:
                failures.append(m.describe() + "\n  -> Keras refused it: " + line)
    print(f"\n{len(accepted)} accepted mutants, {len(sample)} in the sample")
    print(f"valid, but over {BUILD_PARAM_LIMIT:,} params, not built: cases {not_built}")
    _print_tolerated()
    for reason, lines in refused.items():
        print(f"Keras refused {len(lines)} KNOWN_OPEN {reason} mutants:")
        for line in lines:
            print("   ", line)
    assert not failures, "\n\n".join(failures)


# ------------------------------------------------------------------------ bombs
BOMBS = bench_module("bomb_speed").BOMBS
DEFAULT_BOMBS = [
    "fan-out, 17 blocks x 8 uses",
    "fan-out, 17 x 8, first use broken",
    "each: over 3,000 values",
    "5,000-item value x repeat 19,000",
    "5,000-item argument x repeat 19,000",
    "set: 4,000 inserted layers",
]
"""Issue 17's bombs, each minutes (or seconds) of validate before it; the rest run in the
slow suite."""
BOMB_TIMEOUT = 20


def validate_bomb(name: str, folder: Path) -> list[str]:
    """What is wrong with ``specc validate`` of one bomb, run in its own process: the
    checks of every mutant, and under MAX_CPU_SECONDS of CPU (interpreter start included)."""
    files = BOMBS[name]()
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in files.items():
        _write(folder / file, text)
    size = sum(len(text.encode()) for text in files.values())
    assert size < 4 * 1024 * 1024, f"{name}: {size} bytes is over the file bound"
    before = _child_cpu()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "specc", "validate", next(iter(files))],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=BOMB_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return [f"{name}: validate ran past {BOMB_TIMEOUT} s"]
    cpu = _child_cpu() - before
    problems = check_output(run.returncode, run.stdout, run.stderr)
    if cpu > MAX_CPU_SECONDS:
        problems.append(f"validate took {cpu:.2f} s of CPU")
    return [f"{name} ({size:,} bytes): {p}" for p in problems]


def test_fuzz_bombs(tmp_path):
    """Issue 17's bombs: each answered in under 2 s of CPU, with located errors."""
    problems = []
    for i, name in enumerate(DEFAULT_BOMBS):
        problems += validate_bomb(name, tmp_path / str(i))
    assert not problems, "\n".join(problems)


ISSUE19_BOMBS = [
    "split into 10,000,000 pieces",
    "sub-models, 22 levels x 2 copies",
    "sub-models nested 1,000 deep",
    "300 ResNet152 backbones",
]
"""Issue 19's surface as a hostile user meets it: one line making ten million tensors,
4 million sub-model copies, nesting past Python's frames (an internal error), 300
backbones (7 s) — each now refused at its line under MAX_CPU_SECONDS."""


@pytest.mark.parametrize("name", ISSUE19_BOMBS)
def test_fuzz_issue19_bombs(name, tmp_path):
    """Operations, sub-models and backbones bounded: one located line, under 2 s of CPU."""
    problems = validate_bomb(name, tmp_path)
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_fuzz_all_bombs(tmp_path):
    """Every bomb of the benchmark, larger ones and wide YAML included."""
    problems = []
    for i, name in enumerate(BOMBS):
        problems += validate_bomb(name, tmp_path / str(i))
    assert not problems, "\n".join(problems)


def test_schema_errors_stop_at_a_bound(tmp_path):
    """49,000 unknown keys: the first MAX_ERRORS explained, then one located line."""
    from specc.language.messages import MAX_ERRORS

    spec = tmp_path / "spec.yaml"
    _write(spec, BOMBS["mapping of 49,000 keys"]()["spec.yaml"])
    run = run_specc("validate", spec.name, cwd=tmp_path)
    lines = [line for line in run.stderr.splitlines() if not SUMMARY.match(line)]
    assert run.exit_code == 1 and len(lines) == MAX_ERRORS + 1, lines[-3:]
    assert all(LOCATED.match(line) for line in lines)
    assert lines[-1].endswith(
        f"error: data.k{MAX_ERRORS - 1}: 48,801 more schema errors not shown (at most "
        f"{MAX_ERRORS} are); fix these first"
    ), lines[-1]
