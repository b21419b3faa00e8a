"""How much of `specc import` is importing Keras (issue 19: "import time dominated by
importing Keras").

Run: `.venv/bin/python bench/import_speed.py [--runs N]`. Saves a few models as `.keras`
files in a temporary folder (a small CNN, the blog-sized Siamese towers, an operations
block, keras.applications MobileNetV2 and NASNetMobile with ``weights=None``), then times
whole processes, median of N, in the same run: the baseline
``python -c "import keras"`` (what any reader of a `.keras` file pays) against
``python -m specc import MODEL.keras -o OUT.yaml``. Printed per model: its layers, wall
and CPU time (user + system of the child) of the import, and its CPU time beyond the
baseline's (noise can make it negative on a busy machine: use several runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_speed import ROOT, env_for, run_once


def _models(folder: Path) -> dict[str, tuple[Path, int]]:
    """The models saved as .keras files: name -> (path, layers)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    def small() -> keras.Model:
        x = keras.Input((28, 28, 1))
        y = keras.layers.Conv2D(8, 3, activation="relu")(x)
        y = keras.layers.GlobalAveragePooling2D()(y)
        return keras.Model(x, keras.layers.Dense(10, activation="softmax")(y))

    def towers() -> keras.Model:
        i = keras.Input((16,))
        tower = keras.Model(i, keras.layers.Dense(8, activation="relu")(i), name="tower")
        a, b = keras.Input((16,)), keras.Input((16,))
        joined = keras.layers.Concatenate()([tower(a), tower(b)])
        return keras.Model([a, b], keras.layers.Dense(1, activation="sigmoid")(joined))

    def operations() -> keras.Model:
        x = keras.Input((8, 8, 3))
        y = keras.layers.Conv2D(8, 3, padding="same")(x)
        y = y * keras.ops.relu6(y + 3.0) * (1.0 / 6.0)  # MobileNetV3's hard swish
        return keras.Model(x, keras.ops.mean(y, axis=[1, 2]))

    builders = {
        "small CNN": small,
        "Siamese towers": towers,
        "hard-swish operations": operations,
        "MobileNetV2": lambda: keras.applications.MobileNetV2(weights=None),
        "NASNetMobile": lambda: keras.applications.NASNetMobile(weights=None),
    }
    out = {}
    for name, build in builders.items():
        keras.backend.clear_session()
        model = build()
        path = folder / (name.replace(" ", "_").replace("-", "_") + ".keras")
        model.save(path)
        out[name] = (path, len(model.layers))
    return out


def _median(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    run_once(cmd, env)  # untimed: bytecode and the file cache
    times = [run_once(cmd, env) for _ in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command")
    args = parser.parse_args()
    env = env_for(ROOT / "compiler") | {"KERAS_BACKEND": "tensorflow"}
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"python {sys.version.split()[0]}; load average {load} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        models = _models(folder)
        base_wall, base_cpu = _median([sys.executable, "-c", "import keras"], env, args.runs)
        print(f"\n{'baseline: import keras':34} {base_wall:7.2f} s wall {base_cpu:7.2f} s CPU")
        for name, (path, layers) in models.items():
            cmd = [sys.executable, "-m", "specc", "import", str(path), "-o", str(folder / "o.yaml")]
            wall, cpu = _median(cmd, env, args.runs)
            print(f"{name:22} {layers:5,} layers {wall:7.2f} s wall {cpu:7.2f} s CPU, "
                  f"{cpu - base_cpu:+.2f} s CPU beyond import keras")  # fmt: skip


if __name__ == "__main__":
    main()
