"""The run report (``report.html``, ``specc report``), TensorBoard logs, and the page in a
real browser: Debian's chromium, driven headless by playwright (no browser download).

One short training (the blog CNN, 1 epoch on synthetic MNIST-shaped data) is shared by
the tests here, and by the xdist workers through a lock file.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import SPECS, epoch_ticks, synthetic_mnist

BLOG = SPECS / "mnist_cnn.yaml"
CHROMIUM = os.environ.get("SPECC_CHROMIUM", "/usr/bin/chromium")
SKIP_BROWSER = os.environ.get("SPECC_SKIP_BROWSER") == "1"
"""The only way to skip the browser test: say so explicitly (CI never does)."""
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A run folder of the blog CNN, trained once per test session (all workers)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this session's folder, shared by its workers
    folder = base / "report-run"
    with open(base / "report-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "report.html").is_file():
            from specc.analysis.pipeline import compile_file
            from specc.training.train import Options, train

            data = base / "report-data.npz"
            np.savez(data, **synthetic_mnist(n_train=300, n_test=200, seed=3))
            shutil.rmtree(folder, ignore_errors=True)
            options = Options(data=str(data), epochs=1, seed=1, output_dir=str(folder), verbose=0)
            train(compile_file(BLOG), options)
    return folder


# -- what train writes --------------------------------------------------------------------
def test_train_writes_the_report_its_data_and_tensorboard_logs(trained_run):
    for name in ("report.html", "report.npz", "diagram.svg", "curves.png", "confusion.png"):
        assert (trained_run / name).is_file(), name
    with np.load(trained_run / "report.npz") as data:
        assert data["y_true"].shape == data["y_pred"].shape == (200,)
        wrong = int((data["y_true"] != data["y_pred"]).sum())
        assert len(data["wrong_index"]) == min(wrong, 36)
        assert data["wrong_x"].shape[1:] == (28, 28, 1)
        assert data["filters"].shape == (3, 3, 1, 32)  # the first Conv2D's kernel
        assert str(data["filters_layer"]) == "conv2d"
        assert data["maps"].shape == (10, 3, 3, 16)  # conv2d_3, per digit
        assert str(data["maps_layer"]) == "conv2d_3"
        assert data["maps_count"].sum() == 200
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = {}
    for split in ("train", "validation"):
        events = list((trained_run / "tensorboard" / split).glob("events.out.tfevents.*"))
        assert events, split
        accumulator = EventAccumulator(str(trained_run / "tensorboard" / split))
        accumulator.Reload()
        tags[split] = set(accumulator.Tags()["tensors"]) | set(accumulator.Tags()["scalars"])
    assert {"epoch_loss", "epoch_accuracy"} <= tags["train"]
    assert {"epoch_loss", "epoch_accuracy"} <= tags["validation"]


def test_the_page_is_self_contained(trained_run):
    page = (trained_run / "report.html").read_text()
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) == 6  # diagram, curves, confusion, misclassified, filters, maps
    assert all(
        s.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for s in sources
    )
    assert "<script" not in page and "<link" not in page and "http://" not in page
    assert "default-src 'none'" in page  # and the browser is told to load nothing else
    assert "conv2d_3 (Conv2D)" in page  # the layer table
    assert "kernel_regularizer" in page  # the spec as run
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert f"{metrics['test_accuracy']:.4f}" in page


def test_specc_report_rebuilds_the_same_page_without_tensorflow(trained_run, tmp_path):
    out = tmp_path / "again.html"
    code = (
        "import sys\nfrom specc.cli import main\n"
        "try:\n    main(['report', sys.argv[1], '-o', sys.argv[2]])\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "bad = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(trained_run), str(out)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote {out}\n"
    assert out.read_text() == (trained_run / "report.html").read_text()


# -- specc report on hand-made run folders (no training) -------------------------------
def _fake_run(folder: Path, description: str = "Small MNIST CNN.") -> Path:
    """A run folder as train writes it, made by hand: the report reads only files."""
    folder.mkdir()
    spec = BLOG.read_text().replace(
        "description: Small MNIST CNN from a 2018 Keras blog post (43,290 parameters).",
        f"description: {json.dumps(description)}",
    )
    assert json.dumps(description) in spec
    (folder / "spec.yaml").write_text(spec)
    (folder / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5, "epochs": 1}))
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 50)
    y_pred = np.where(rng.random(50) < 0.5, y_true, (y_true + 1) % 10)
    wrong = np.flatnonzero(y_true != y_pred)
    np.savez(
        folder / "report.npz",
        y_true=y_true, y_pred=y_pred, wrong_index=wrong,
        wrong_x=rng.random((len(wrong), 28, 28, 1)).astype(np.float32),
        wrong_confidence=rng.random(len(wrong)).astype(np.float32),
        filters=rng.normal(size=(3, 3, 1, 8)).astype(np.float32), filters_layer=np.array("conv2d"),
        maps=rng.random((10, 3, 3, 4)).astype(np.float32), maps_count=np.bincount(y_true, minlength=10),
        maps_layer=np.array("conv2d_3"),
    )  # fmt: skip
    return folder


def test_report_escapes_everything_from_the_spec(specc, tmp_path):
    evil = "</pre><script>alert(1)</script><img src=x onerror=alert(2)>"
    folder = _fake_run(tmp_path / "run", evil)
    run = specc("report", str(folder))
    assert run.exit_code == 0, run.stderr
    page = (folder / "report.html").read_text()
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Without diagram.svg the page draws the diagram from spec.yaml; no temp file is left.
    assert page.count('src="data:image/svg+xml;base64,') == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        "metrics.json", "report.html", "report.npz", "spec.yaml",
    ]  # fmt: skip


def test_report_of_a_run_without_pictures_says_what_is_missing(specc, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(BLOG, folder / "spec.yaml")
    run = specc("report", str(folder), "-o", str(tmp_path / "r.html"))
    assert run.exit_code == 0, run.stderr
    page = (tmp_path / "r.html").read_text()
    assert "No metrics.json: the run did not finish." in page
    assert page.count("<img ") == 1  # the diagram only


def test_report_draws_the_curves_again_from_the_history(tmp_path, monkeypatch):
    """A run folder's curves.png from before a fix (one epoch: fractional ticks) is drawn
    again from history.json, with whole epochs; without history.json it is shown as is."""
    import base64

    import matplotlib.pyplot as plt

    from specc.training import html_report

    folder = _fake_run(tmp_path / "run")
    stale = b"\x89PNG stale"
    (folder / "curves.png").write_bytes(stale)
    history = {"loss": [0.5], "accuracy": [0.8], "val_loss": [0.6], "val_accuracy": [0.7]}
    (folder / "history.json").write_text(json.dumps(history))
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    page = html_report.render(html_report.context(folder))
    (curves,) = [f for f in figures if any(ax.get_xlabel() == "epoch" for ax in f.axes)]
    assert epoch_ticks(curves) == [[1.0], [1.0]]
    assert base64.b64encode(stale).decode() not in page
    (folder / "history.json").unlink()
    page = html_report.render(html_report.context(folder))
    assert base64.b64encode(stale).decode() in page


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such folder (give a run folder that specc train wrote)"),
        (lambda p: p.write_text("x"), "not a folder (give a run folder that specc train wrote)"),
        (lambda p: p.mkdir(), "no spec.yaml here: not a run folder that specc train wrote"),
        (lambda p: (_fake_run(p) / "report.npz").write_bytes(b"junk"),
         "cannot read report.npz: not an .npz (zip) file"),
        (lambda p: _truncate(_fake_run(p) / "report.npz"),
         "cannot read report.npz: not an .npz (zip) file"),
        (lambda p: _edit_data(_fake_run(p), y_pred=np.zeros(3, np.int64)),
         "cannot read report.npz: not what specc train writes (ValueError: "),
        (lambda p: _edit_data(_fake_run(p), maps_count=None),
         "cannot read report.npz: not what specc train writes (KeyError: 'maps_count')"),
        (lambda p: _edit_data(_fake_run(p), wrong_index=np.array([1000])),
         "cannot read report.npz: not what specc train writes (IndexError: "),
        (lambda p: (_fake_run(p) / "metrics.json").write_text("{"), "cannot read metrics.json"),
        (lambda p: (_fake_run(p) / "metrics.json").write_text("[1, 2]"),
         "cannot read metrics.json: not a JSON object"),
    ],
)  # fmt: skip
def test_report_refuses_what_is_not_a_run_folder(specc, tmp_path, make, message):
    folder = tmp_path / "run"
    make(folder)
    run = specc("report", str(folder), "-o", str(tmp_path / "r.html"))
    assert run.exit_code == 2
    assert run.stderr.startswith(f"{folder}: error: {message}")
    assert len(run.stderr.splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _edit_data(folder: Path, **changes: np.ndarray | None) -> None:
    """report.npz with arrays replaced (None: left out)."""
    with np.load(folder / "report.npz") as npz:
        arrays = {k: npz[k] for k in npz.files} | changes
    np.savez(folder / "report.npz", **{k: v for k, v in arrays.items() if v is not None})


# -- in a real browser ----------------------------------------------------------------------
def _browser():  # type: ignore[no-untyped-def]
    """Playwright's chromium driver on Debian's chromium, or a failure that says what to do."""
    if SKIP_BROWSER:
        pytest.skip("SPECC_SKIP_BROWSER=1: the browser check was switched off explicitly")
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} not found: the report is checked in headless Chromium. Install it "
            "(Debian/Ubuntu: sudo apt-get install -y chromium; .ci/run does this), point "
            "SPECC_CHROMIUM at one, or set SPECC_SKIP_BROWSER=1 to skip this check",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[dev]'", pytrace=False)
    return sync_playwright


def _check_in_browser(url: str, shot: Path, width: int = 1200) -> dict:
    """Load ``url``; return console errors, failed requests, images and a screenshot."""
    sync_playwright = _browser()
    found: dict = {"errors": [], "failed": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on(
                "console", lambda m: found["errors"].append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda e: found["errors"].append(str(e)))
            page.on("requestfailed", lambda r: found["failed"].append(r.url))
            page.goto(url, wait_until="load")
            found["images"] = page.evaluate(
                "Promise.all(Array.from(document.images).map(i => i.decode().then("
                "() => [i.alt, i.naturalWidth, i.naturalHeight], () => [i.alt, 0, 0])))"
            )
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return found


def _not_blank(png: Path) -> None:
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500
    assert pixels.std() > 0.05, "the screenshot is blank"
    assert (pixels.reshape(-1, 3) < 0.5).all(axis=1).mean() > 0.005  # dark ink: text, lines


def test_report_renders_in_chromium(trained_run, tmp_path):
    shot = tmp_path / "report.png"
    found = _check_in_browser((trained_run / "report.html").as_uri(), shot)
    assert found["errors"] == [] and found["failed"] == []
    assert len(found["images"]) == 6
    for alt, width, height in found["images"]:
        assert width > 0 and height > 0, f"image {alt!r} did not decode"
    _not_blank(shot)


def test_diagram_svg_renders_in_chromium(specc, tmp_path):
    svg = tmp_path / "resnet.svg"
    assert specc("diagram", str(SPECS / "resnet20_cifar10.yaml"), "-o", str(svg)).exit_code == 0
    page = tmp_path / "page.html"
    page.write_text(
        f'<!DOCTYPE html><html><body><img alt="diagram" src="{svg.name}"></body></html>'
    )
    shot = tmp_path / "diagram.png"
    found = _check_in_browser(page.as_uri(), shot)
    assert found["errors"] == [] and found["failed"] == []
    [(_, width, height)] = found["images"]
    assert width > 500 and height > 5000  # ResNet-20: a tall column
    _not_blank(shot)
