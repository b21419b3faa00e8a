"""An audio folder (one subfolder of WAV files per class) streamed through
``keras.utils.audio_dataset_from_directory``: checked from the WAV headers before
training, one line each (exit 1), and trained by `specc train` and the emitted script to
the same test metrics for the same seed."""

from __future__ import annotations

import json
import math
import wave

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from tests.emitted import emit
from tests.helpers import run_script

SPEC = """\
name: words
data:
  dataset: audio_folder
  path: {path}
{extra}model:
  input: {{shape: [{length}, 1]}}
  layers:
    - {{type: Conv1D, filters: 8, kernel_size: 16, strides: 4, activation: relu}}
    - {{type: GlobalAveragePooling1D}}
    - {{type: Dense, units: {units}}}
compile:
  optimizer: adam
  loss: {{type: SparseCategoricalCrossentropy, from_logits: true}}
  metrics: [accuracy]
training: {{epochs: 1, batch_size: 8, validation_split: 0.25, seed: 2}}
"""

TONES = {"high": 1200.0, "low": 300.0, "mid": 600.0}


def write_wav(path, samples, rate=8000, width=2, channels=1):
    """A PCM WAV through the standard library's wave module."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scaled = np.clip(samples, -1, 1) * (2 ** (8 * width - 1) - 1)
    frames = np.repeat(scaled[:, None], channels, axis=1).astype(f"<i{width}")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return path


def write_folder(root, per_class=12, rate=8000, seed=0, classes=TONES):
    """A tone per class, clips of 0.05-0.15 s (padded or cut to the model's length)."""
    rng = np.random.default_rng(seed)
    for name, tone in classes.items():
        for i in range(per_class):
            n = int(rng.integers(rate // 20, rate // 7))
            t = np.arange(n) / rate
            clip = 0.6 * np.sin(2 * np.pi * tone * t + rng.uniform(0, 6)) + rng.normal(0, 0.05, n)
            write_wav(root / name / f"{i:03d}.wav", clip, rate)
    return root


def spec(tmp_path, data, *, length=800, units=3, extra=""):
    path = tmp_path / "words.yaml"
    path.write_text(SPEC.format(path=data, length=length, units=units, extra=extra))
    return path


@pytest.mark.slow  # two trainings and a script start: 35-65 s on the shared CPU
@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_an_audio_folder(tmp_path, specc):
    """36 clips of 3 tones: 27 train, 9 validate (and test)."""
    data = write_folder(tmp_path / "clips")
    path = spec(tmp_path, data, extra="  sampling_rate: 8000\n  output_sequence_length: 800\n")
    run = specc("train", str(path), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["train_samples"] == 27
    assert ours["class_names"] == ["high", "low", "mid"]
    assert (tmp_path / "specc" / "confusion.png").is_file()
    with np.load(tmp_path / "specc" / "report.npz") as saved:  # waveforms are not pictures
        assert "y_pred" in saved.files and "wrong_x" not in saved.files
    script = emit(compile_file(path), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    assert theirs["class_names"] == ["high", "low", "mid"]
    for key in ("test_loss", "test_accuracy"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])


@pytest.mark.keras
def test_clips_are_padded_or_cut_to_the_length(tmp_path):
    from specc.language.schema import Data
    from specc.training import audio_folder

    root = tmp_path / "c"
    write_wav(root / "a" / "short.wav", np.full(100, 0.5))
    write_wav(root / "b" / "long.wav", np.full(3000, -0.25))
    data = Data.model_validate({"dataset": "audio_folder", "path": str(root)})
    checked = audio_folder.check(data, root, (800, 1), 2, 0.5)
    assert (checked.length, checked.rate, checked.channels) == (800, 8000, 1)
    streams = audio_folder.open_streams(checked, 4, 0)
    clips = {int(y[0]): x[0] for x, y in streams.train.as_numpy_iterator()}
    clips |= {int(y[0]): x[0] for x, y in streams.test.as_numpy_iterator()}
    assert clips[0].shape == clips[1].shape == (800, 1)
    np.testing.assert_allclose(clips[0][:100, 0], 0.5, atol=1e-4)
    np.testing.assert_array_equal(clips[0][100:, 0], 0.0)
    np.testing.assert_allclose(clips[1][:, 0], -0.25, atol=1e-4)


def _error(tmp_path, specc, spec_path):
    run = specc("train", str(spec_path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    return run.stderr.removeprefix("error: ").strip()


def test_no_class_subfolders_or_one_class(tmp_path, specc):
    root = tmp_path / "clips"
    write_wav(root / "loose.wav", np.zeros(100))
    assert _error(tmp_path, specc, spec(tmp_path, root)).startswith(
        f"{root}: no class subfolders; put each class's WAV files in a subfolder"
    )
    write_wav(root / "yes" / "a.wav", np.zeros(100))
    assert _error(tmp_path, specc, spec(tmp_path, root)) == (
        f"{root}: one class subfolder (yes/); a classifier needs at least two"
    )


def test_unreadable_wavs_are_refused_with_a_count(tmp_path, specc):
    root = write_folder(tmp_path / "clips", per_class=4)
    (root / "low" / "002.wav").write_bytes(b"RIFF\x00\x00not a wave at all")
    cut = root / "mid" / "001.wav"
    cut.write_bytes(cut.read_bytes()[:-50])
    write_wav(root / "high" / "009.wav", np.zeros(200), width=1)
    message = _error(tmp_path, specc, spec(tmp_path, root))
    assert message.startswith(f"{root / 'high' / '009.wav'}: a 8-bit WAV; Keras' decoder")
    assert message.endswith(
        f"; 3 of 13 file(s) in {root} are not readable WAVs: remove or replace them"
    )


def test_mixed_sample_rates_and_a_stated_rate(tmp_path, specc):
    root = write_folder(tmp_path / "clips", per_class=4)
    write_wav(root / "low" / "x.wav", np.zeros(200), rate=16000)
    assert _error(tmp_path, specc, spec(tmp_path, root)) == (
        f"{root}: clips of mixed sample rates: 8000 Hz (000.wav), 16000 Hz (x.wav); "
        "resample them to one rate"
    )
    (root / "low" / "x.wav").unlink()
    message = _error(tmp_path, specc, spec(tmp_path, root, extra="  sampling_rate: 16000\n"))
    assert message == (
        f"{root}: the clips are 8000 Hz but data.sampling_rate is 16000; resample them or "
        "set it to 8000"
    )


def test_the_class_count_and_the_input_must_fit(tmp_path, specc):
    root = write_folder(tmp_path / "clips", per_class=4)
    assert _error(tmp_path, specc, spec(tmp_path, root, units=4)) == (
        f"{root}: 3 classes (high, low, mid) but the model's last layer has 4 units; make "
        "them equal"
    )
    message = _error(tmp_path, specc, spec(tmp_path, root, extra="  output_sequence_length: 400\n"))
    assert message == (
        f"{root}: a clip is 400 samples of 1 channel(s) but model.input.shape is [800, 1]; "
        "make it [400, 1]"
    )


def test_audio_keys_are_validated(tmp_path, specc):
    root = write_folder(tmp_path / "clips", per_class=2)
    path = spec(tmp_path, root, extra="  preprocessing: {x: [{divide: 2}]}\n")
    run = specc("validate", str(path))
    assert run.exit_code == 1 and "audio_folder data takes no x steps" in run.stdout + run.stderr
    path = spec(tmp_path, root, extra="  output_sequence_length: 800\n").read_text()
    (tmp_path / "w.yaml").write_text(path.replace("audio_folder", "image_folder"))
    run = specc("validate", str(tmp_path / "w.yaml"))
    assert run.exit_code == 1
    assert "output_sequence_length applies to audio_folder" in run.stdout + run.stderr
