"""``--plugin``: the user's own layers, losses and metrics, only where the command line
allows their module (issue 20, item 3).

Each plugin here is a file written into the test's folder under a module name used once,
so "imported" is seen from ``sys.modules`` and from a marker file its import writes.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_specc

_ids = itertools.count()

LAYERS = '''
import pathlib

import keras
from keras import layers

pathlib.Path(__file__).with_suffix(".imported").write_text("imported")


class TransformerBlock(layers.Layer):
    """keras-io's text-classification Transformer block (examples/nlp/text_classification_with_transformer.py)."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)
        self.embed_dim, self.num_heads, self.ff_dim, self.rate = embed_dim, num_heads, ff_dim, rate

    def call(self, inputs):
        attn_output = self.dropout1(self.att(inputs, inputs))
        out1 = self.layernorm1(inputs + attn_output)
        return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))


class AddsLoss(layers.Layer):
    """A layer adding its own loss (as keras-io's CTCLayer and VAE do), passing x on."""

    def __init__(self, weight=0.01, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight

    def call(self, x):
        self.add_loss(self.weight * keras.ops.mean(keras.ops.square(x)))
        return x


def scaled_mse(y_true, y_pred):
    return 2.0 * keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)


class NotALayer:
    pass
'''

SPEC = """\
name: {name}
model:
  input: {{shape: [6, 8]}}
  layers:
    - {{type: {module}.TransformerBlock, embed_dim: 8, num_heads: 2, ff_dim: 16}}
    - {{type: GlobalAveragePooling1D}}
    - {{type: Dropout, rate: 0.1}}
    - {{type: Dense, units: 3, activation: softmax}}
"""


def _plugin(folder: Path, text: str = LAYERS) -> str:
    """A plugin file under a module name no other test uses; its module name."""
    module = f"specc_plugin_{next(_ids)}"
    (folder / f"{module}.py").write_text(text, encoding="utf-8")
    return module


def _keras_model(module_name: str, folder: Path):
    """The spec's model as Keras code builds it (the reference)."""
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    mod = sys.modules[module_name]
    return k.Sequential(
        [
            k.Input((6, 8)),
            mod.TransformerBlock(8, 2, 16),
            k.layers.GlobalAveragePooling1D(),
            k.layers.Dropout(0.1),
            k.layers.Dense(3, activation="softmax"),
        ]
    )


def test_without_plugin_every_custom_type_is_reported_and_nothing_imported(tmp_path):
    module = _plugin(tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        SPEC.format(name="s", module=module)
        + "    - {type: other_pkg.layers.Thing, size: 2}\ncompile: {optimizer: adam, "
        f"loss: {module}.scaled_mse}}\n",
        encoding="utf-8",
    )
    run = run_specc("validate", "s.yaml", cwd=tmp_path)
    assert run.exit_code == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 3, run.stderr
    assert lines[0].startswith(f"s.yaml:5:7: error: model.layers[0]: {module}.TransformerBlock ")
    assert f"(pass --plugin {module}, or the .py file defining it, to allow its code)" in lines[0]
    assert lines[1].startswith("s.yaml:9:7: error: model.layers[4]: other_pkg.layers.Thing ")
    assert "pass --plugin other_pkg.layers" in lines[1]
    assert "compile.loss" in lines[2] and f"pass --plugin {module}" in lines[2]
    assert module not in sys.modules
    assert not (tmp_path / f"{module}.imported").exists()


@pytest.mark.keras
def test_summary_with_plugin_asks_keras_and_equals_keras(tmp_path):
    module = _plugin(tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(name="s", module=module), encoding="utf-8")
    run = run_specc("summary", str(spec), "--format", "json", "--plugin", f"{module}.py",
                    cwd=tmp_path)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / f"{module}.imported").exists()
    ours = json.loads(run.stdout)
    model = _keras_model(module, tmp_path)
    want = [(layer.name, type(layer).__name__, list(layer.output.shape), layer.count_params())
            for layer in model.layers]  # fmt: skip
    got = [(r["name"], r["type"], r["output_shape"], r["params"]) for r in ours["layers"]]
    # Keras' own names differ only in the model's Dropout: Sequential() constructs it before
    # the block's first call names MultiHeadAttention's inner dropout; specc counts that
    # call right after the construction, as code that calls each layer when made does.
    assert [g[1:] for g in got] == [w[1:] for w in want]
    assert ours["total_params"] == model.count_params() == 907
    assert [g[0] for g in got] == ["transformer_block", "global_average_pooling1d",
                                   "dropout_3", "dense_2"]  # fmt: skip


@pytest.mark.keras
def test_module_plugin_and_keras_error_at_the_layers_line(tmp_path, monkeypatch):
    module = _plugin(tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        SPEC.format(name="s", module=module).replace("num_heads: 2", "num_heads: -2"),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    run = run_specc("validate", "s.yaml", "--plugin", module, cwd=tmp_path)
    assert run.exit_code == 1
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"s.yaml:5:7: error: model.layers[0]: Keras refused {module}.")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("def broken(:\n", "cannot import it: SyntaxError"),
        ("import no_such_module_anywhere\n", "cannot import it: ModuleNotFoundError"),
        (
            LAYERS.replace("class TransformerBlock", "class Renamed"),
            "defines no 'TransformerBlock'",
        ),
    ],
)
@pytest.mark.keras
def test_a_plugin_that_cannot_be_used_is_one_line_exit_2(tmp_path, text, said):
    module = _plugin(tmp_path, text)
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(name="s", module=module), encoding="utf-8")
    run = run_specc("summary", str(spec), "--plugin", f"{module}.py", cwd=tmp_path)
    assert run.exit_code == 2, run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"error: --plugin {module}.py: ") and said in line, line


@pytest.mark.keras
def test_a_class_that_is_no_keras_layer_is_refused(tmp_path):
    module = _plugin(tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        SPEC.format(name="s", module=module).replace("TransformerBlock", "NotALayer"),
        encoding="utf-8",
    )
    run = run_specc("validate", str(spec), "--plugin", f"{module}.py", cwd=tmp_path)
    assert run.exit_code == 2
    assert "is not a keras.layers.Layer subclass" in run.stderr


@pytest.mark.keras
def test_build_emit_code_and_import_use_the_class(tmp_path):
    from tests.emitted import load_module
    from tests.keras_helpers import keras

    module = _plugin(tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        SPEC.format(name="s", module=module)
        + "data: {dataset: npz, path: d.npz}\n"
        + "compile: {optimizer: adam, loss: sparse_categorical_crossentropy}\n",
        encoding="utf-8",
    )
    plugin = ("--plugin", f"{module}.py")
    built = tmp_path / "b.keras"
    run = run_specc("build", str(spec), "-o", str(built), *plugin, cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    k = keras()
    model = k.saving.load_model(built)  # the class was registered by its registered name
    assert type(model.layers[0]).__name__ == "TransformerBlock"
    assert model.count_params() == 907

    # emit-code: the script loads the file relative to itself and registers the class
    run = run_specc("emit-code", str(spec), "-o", str(tmp_path / "gen"), *plugin, cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    script = (tmp_path / "gen" / "s.py").read_text(encoding="utf-8")
    assert f'module = load_plugin_file("{module}", "../{module}.py")' in script
    assert f'custom["{module}.TransformerBlock"](' in script
    for argv in (
        ["format", "--isolated", "--check"],
        ["check", "--isolated", "--select", "E,F,W,I,B,UP", "--ignore", "E501"],
    ):
        linted = subprocess.run([sys.executable, "-m", "ruff", *argv, str(tmp_path / "gen" / "s.py")],
                                capture_output=True, text=True)  # fmt: skip
        assert linted.returncode == 0, linted.stdout + linted.stderr
    again = run_specc("emit-code", str(spec), "-o", str(tmp_path / "gen"), *plugin, "--check",
                      cwd=tmp_path)  # fmt: skip
    assert again.exit_code == 0, again.stdout  # deterministic
    made = load_module(tmp_path / "gen" / "s.py").build_model()
    assert [layer.name for layer in made.layers] == [layer.name for layer in model.layers]
    assert made.count_params() == 907

    # import: without the flag refused with the hint, with it the spec again
    run = run_specc("import", str(built), cwd=tmp_path)
    assert run.exit_code == 1
    assert f"pass --plugin {module}, or the .py file defining it" in run.stderr
    run = run_specc("import", str(built), *plugin, cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    assert (
        f"{{type: {module}.TransformerBlock, embed_dim: 8, num_heads: 2, ff_dim: 16" in run.stdout
    )


@pytest.mark.keras
def test_train_with_a_layer_adding_its_loss_and_a_custom_loss(tmp_path):
    from tests.keras_helpers import keras

    module = _plugin(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x_train=rng.normal(size=(32, 8)).astype("float32"),
        y_train=rng.normal(size=(32, 2)).astype("float32"),
        x_test=rng.normal(size=(8, 8)).astype("float32"),
        y_test=rng.normal(size=(8, 2)).astype("float32"),
    )
    spec = tmp_path / "t.yaml"
    spec.write_text(
        f"""\
name: t
model:
  input: {{shape: [8]}}
  layers:
    - {{type: Dense, units: 4}}
    - {{type: {module}.AddsLoss, weight: 0.5}}
    - {{type: Dense, units: 2}}
data: {{dataset: npz, path: d.npz}}
compile: {{optimizer: adam, loss: {module}.scaled_mse, metrics: [mae]}}
training: {{epochs: 1, batch_size: 8}}
""",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    run = run_specc("train", str(spec), "--plugin", f"{module}.py", "--output-dir", str(out),
                    cwd=tmp_path)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    model = keras().saving.load_model(out / "model.keras")
    assert type(model.layers[1]).__name__ == "AddsLoss"
    x = np.ones((4, 8), "float32")
    model(x)
    assert len(model.losses) == 1  # the layer's own loss came back with the class
    # the saved model imports again: Keras names the function's module "builtins", so the
    # allowed modules are asked which defines it
    back = run_specc("import", str(out / "model.keras"), "--plugin", f"{module}.py",
                     cwd=tmp_path)  # fmt: skip
    assert back.exit_code == 0, back.stderr
    assert f"loss: {module}.scaled_mse" in back.stdout
    assert f"{{type: {module}.AddsLoss, weight: 0.5" in back.stdout
    assert np.isfinite(history["loss"][0]) if isinstance(history, dict) else history


@pytest.mark.keras
def test_emitted_script_imports_a_module_plugin(tmp_path, monkeypatch):
    from tests.emitted import load_module

    module = _plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = tmp_path / "s.yaml"
    spec.write_text(
        SPEC.format(name="s", module=module)
        + "data: {dataset: npz, path: d.npz}\n"
        + f"compile: {{optimizer: adam, loss: {module}.scaled_mse, metrics: [mae]}}\n",
        encoding="utf-8",
    )
    run = run_specc("emit-code", "s.yaml", "-o", "gen", "--plugin", module, cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    script = (tmp_path / "gen" / "s.py").read_text(encoding="utf-8")
    assert f'module = importlib.import_module("{module}")' in script
    assert f'loss=custom["{module}.scaled_mse"],' in script
    assert f"from 's.yaml --plugin {module}'" in script.splitlines()[0]
    loaded = load_module(tmp_path / "gen" / "s.py")
    model = loaded.build_model()
    loaded.compile_model(model)
    assert model.loss is sys.modules[module].scaled_mse


def test_validate_imports_keras_only_for_a_plugin_layer(tmp_path):
    """--plugin alone imports nothing: a spec without a plugin layer is validated without
    Keras (and without the plugin), as every spec is."""
    module = _plugin(tmp_path)
    (tmp_path / "plain.yaml").write_text(
        "name: plain\nmodel:\n  input: {shape: [4]}\n  layers:\n    - {type: Dense, units: 2}\n",
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from specc.cli import main\n"
        "try:\n"
        f"    main(['validate', 'plain.yaml', '--plugin', '{module}.py'])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, 'keras' in sys.modules, '" + module + "' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "0 False False", done.stdout + done.stderr
    assert not (tmp_path / f"{module}.imported").exists()
