"""Issue 18: ``tokensep separate`` and the Python API as a demucs user meets them: a default
model and named models, no silent overwrite, folders and ffmpeg formats, MP3 output, the demucs
flags, input checks of the API, nothing left behind on failure or SIGTERM."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.conftest import REPO_ROOT, install_fake_distribution
from tokensep_core.audio.io import AudioWriter
from tokensep_core.cli.main import main
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import autoload_enabled as plugins_autoloaded
from tokensep_core.separation.separator import SHIFT_SEED_STRIDE, GenerativeSeparator

STEMS = ["bass", "drums", "other", "vocals"]
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def _song(path: Path, frames: int = 4000, channels: int = 2, rate: int = 16000, seed: int = 0) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (0.1 * np.random.default_rng(seed).standard_normal((frames, channels))).astype(np.float32)
    sf.write(str(path), data, rate, subtype="FLOAT" if path.suffix == ".wav" else None)
    return data


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture(scope="module")
def separator(tiny_run) -> GenerativeSeparator:
    return GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu")


# 1. default model, names -------------------------------------------------------------------


@needs_ffmpeg
def test_no_model_flag_separates_an_m4a_with_the_shipped_model(tmp_path: Path, capsys) -> None:
    """``tokensep separate song.m4a`` (no -n): four stems, the input's rate, channels, length;
    the log names the default; a non-terminal gets no progress bars."""
    _song(tmp_path / "src.wav", frames=8000, rate=22050)
    _ffmpeg("-i", str(tmp_path / "src.wav"), "-c:a", "aac", "-b:a", "96k", str(tmp_path / "song.m4a"))
    decoded = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(tmp_path / "song.m4a"), "-f", "f32le", "-"], capture_output=True, check=True
    )
    frames = len(decoded.stdout) // 4 // 2
    assert main(["separate", str(tmp_path / "song.m4a"), "-o", str(tmp_path / "out"), "-d", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "model separator-small (the default)" in err and "segments" not in err
    folder = tmp_path / "out" / "separator-small" / "song"
    assert _files(folder) == [f"{stem}.wav" for stem in STEMS]
    for stem in STEMS:
        info = sf.info(str(folder / f"{stem}.wav"))
        assert (info.samplerate, info.channels, info.frames) == (22050, 2, frames)
    assert abs(frames - 8000) < 8000 * 0.05  # ffmpeg trims the AAC priming samples


def test_help_names_the_default_model_and_input_formats(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["separate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: separator-small)" in text and "m4a" in text and "(default: rescale)" in text


def test_an_unknown_model_name_lists_the_known_ones(tmp_path: Path, capsys) -> None:
    """The shipped model, and htdemucs where the teachers plugin is installed (its named model:
    tests/teachers/test_htdemucs_named.py)."""
    _song(tmp_path / "song.wav")
    assert main(["separate", str(tmp_path / "song.wav"), "-n", "demucs", "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    teachers = importlib.util.find_spec("tokensep_teachers") is not None and plugins_autoloaded()
    known = "separator-small, htdemucs" if teachers else "separator-small"
    assert err == [f"tokensep: error: -n 'demucs': no such model or checkpoint directory; known models: {known}"]


def test_a_plugin_registers_a_named_model(tiny_run, tmp_path: Path, monkeypatch, capsys) -> None:
    """A plugin's ``tokensep_register_models`` names a checkpoint found through the environment."""
    source = """
        import os
        from pathlib import Path
        from tokensep_core.errors import ConfigError
        from tokensep_core.hookspecs import hookimpl
        from tokensep_core.separation.models import NamedModel

        def checkpoint():
            if "TINY_MODEL" not in os.environ:
                raise ConfigError("model 'tiny': set TINY_MODEL to its checkpoint directory")
            return Path(os.environ["TINY_MODEL"])

        @hookimpl
        def tokensep_register_models(models):
            models.add(NamedModel("tiny", "a tiny test model", checkpoint))
    """
    (tmp_path / "site").mkdir()
    install_fake_distribution(tmp_path / "site", "tokensep-tinymodel", "tokensep_tinymodel", source)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delenv("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    _song(tmp_path / "song.wav")
    args = ["separate", str(tmp_path / "song.wav"), "-n", "tiny", "-o", str(tmp_path / "out"), "--stems", "drums"]
    monkeypatch.delenv("TINY_MODEL", raising=False)
    assert main(args) == 1
    assert "set TINY_MODEL" in capsys.readouterr().err
    monkeypatch.setenv("TINY_MODEL", str(tiny_run[0]))
    assert main(args) == 0
    assert _files(tmp_path / "out") == ["tiny", "tiny/song", "tiny/song/drums.wav"]


# 2. no silent overwrite --------------------------------------------------------------------


def test_a_filename_pattern_that_merges_stems_or_tracks_is_refused_before_any_work(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir = str(tiny_run[0])
    _song(tmp_path / "a" / "dup.wav")
    _song(tmp_path / "b" / "dup.wav", seed=1)
    out = tmp_path / "out"
    assert main(["separate", str(tmp_path / "a" / "dup.wav"), "-n", run_dir, "-o", str(out), "--filename", "{track}.{ext}"]) == 1
    assert "would both be written to" in capsys.readouterr().err
    assert main(["separate", str(tmp_path / "a"), str(tmp_path / "b"), "-n", run_dir, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "a/dup.wav vocals and " in err and "b/dup.wav vocals would both be written" in err
    assert main(["separate", str(tmp_path / "a"), str(tmp_path / "a" / "dup.wav"), "-n", run_dir, "-o", str(out)]) == 1
    assert "dup.wav is given twice" in capsys.readouterr().err
    assert _files(out) == []


# 3. folders --------------------------------------------------------------------------------


def test_folders_take_every_audio_file_and_an_empty_folder_does_not_stop_the_others(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir = str(tiny_run[0])
    _song(tmp_path / "songs" / "one.mp3")
    _song(tmp_path / "songs" / "sub" / "two.flac", seed=1)
    (tmp_path / "songs" / "notes.txt").write_text("not audio")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "cover.jpg").write_bytes(b"\xff\xd8")
    out = tmp_path / "out"
    code = main(["separate", str(tmp_path / "empty"), str(tmp_path / "songs"), "-n", run_dir, "-o", str(out), "--stems", "bass"])
    err = capsys.readouterr().err
    assert code == 1 and "empty: folder holds no audio files" in err
    name = Path(run_dir).name
    assert _files(out / name) == ["one", "one/bass.wav", "two", "two/bass.wav"]


# 4. formats --------------------------------------------------------------------------------


@needs_ffmpeg
def test_mp3_output_with_bitrate_and_preset(tiny_run, tmp_path: Path) -> None:
    _song(tmp_path / "song.wav", frames=16000, rate=44100)
    out = tmp_path / "out"
    args = ["separate", str(tmp_path / "song.wav"), "-n", str(tiny_run[0]), "-o", str(out), "--stems", "vocals"]
    assert main([*args, "--mp3", "--mp3-bitrate", "128", "--mp3-preset", "5"]) == 0
    path = out / Path(tiny_run[0]).name / "song" / "vocals.mp3"
    info = sf.info(str(path))
    assert (info.format, info.samplerate, info.channels) == ("MP3", 44100, 2)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=bit_rate", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "128000"
    assert _files(out / Path(tiny_run[0]).name / "song") == ["vocals.mp3"]  # no staged files left


def test_unreadable_input_names_both_decoders(tmp_path: Path) -> None:
    from tokensep_core.audio.io import read_audio
    from tokensep_core.errors import AudioError

    (tmp_path / "notes.m4a").write_text("not audio")
    with pytest.raises(AudioError, match=r"notes.m4a: not a readable audio file \(.*; ffmpeg"):
        read_audio(tmp_path / "notes.m4a")


# 5. Python API -----------------------------------------------------------------------------


def test_api_takes_numpy_and_integer_pcm(separator: GenerativeSeparator) -> None:
    rng = np.random.default_rng(0)
    pcm = (rng.standard_normal((2, 3000)) * 3000).astype(np.int16)
    as_float = torch.from_numpy(pcm.astype(np.float32) / 32768)
    reference = separator.separate(as_float, 16000)
    from_numpy = separator.separate(pcm, 16000)
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 and v.shape == (2, 3000) for v in from_numpy.values())
    from_tensor = separator.separate(torch.from_numpy(pcm), 16000)
    from_int32 = separator.separate(torch.from_numpy(pcm.astype(np.int32) << 16), 16000)
    for stem, expected in reference.items():
        assert expected.abs().max() > 0
        assert np.array_equal(from_numpy[stem], expected.numpy())
        assert torch.equal(from_tensor[stem], expected) and torch.equal(from_int32[stem], expected)
    mono = separator.separate(as_float[0], 16000)
    assert all(v.shape == (1, 3000) for v in mono.values())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.separate(np.zeros((3000, 2), np.float32), 16000), r"got shape \[3000, 2\].*pass its transpose"),
        (lambda s: s.separate(np.zeros((2, 100), np.complex64), 16000), "float or integer PCM"),
        (lambda s: s.separate([[0.0, 0.1]], 16000), "torch tensor or numpy array"),
        (lambda s: s.separate(torch.zeros(2, 100), 0), "sample_rate must be a positive whole number of Hz, got 0"),
        (lambda s: s.separate(torch.zeros(2, 100), -44100), "got -44100"),
        (lambda s: s.separate(torch.zeros(2, 100), 44100.5), "got 44100.5"),
        (lambda s: s.separate(torch.zeros(2, 100), 16000, stems="vocals"), "stems must be a list of stem names"),
        (lambda s: s.separate(torch.zeros(2, 100), 16000, stems=[]), "stems is empty"),
        (lambda s: s.separate(torch.zeros(2, 100), 16000, stems=["voice"]), r"unknown stems \['voice'\]"),
        (lambda s: s.update_inference({"segment_seconds": 1e9}), "segment_seconds"),
    ],
)
def test_api_refuses_wrong_input_with_one_line(separator: GenerativeSeparator, call, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        call(separator)
    assert "\n" not in str(info.value)


# 6. --segment ------------------------------------------------------------------------------


def test_segment_guarded(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir = str(tiny_run[0])
    _song(tmp_path / "song.wav")
    out = tmp_path / "out"
    for value in ("1e9", "0", "-1", "nan"):
        with pytest.raises(SystemExit) as info:
            main(["separate", str(tmp_path / "song.wav"), "-n", run_dir, "-o", str(out), "--segment", value])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "usage: tokensep separate" in err and "--segment" in err
    assert main(["separate", str(tmp_path / "song.wav"), "-n", run_dir, "-o", str(out), "--segment", "1", "--stems", "bass"]) == 0
    assert "--segment 1 s is longer than the 0.5 s this model was trained on" in capsys.readouterr().err


# 7. demucs flags ---------------------------------------------------------------------------


def test_two_stems_sum_to_the_mixture(tiny_run, tmp_path: Path) -> None:
    mixture = _song(tmp_path / "song.wav", frames=6000)
    out = tmp_path / "out"
    args = ["separate", str(tmp_path / "song.wav"), "-n", str(tiny_run[0]), "-o", str(out), "--float32", "--clip-mode", "none"]
    threads = torch.get_num_threads()
    try:
        assert main([*args, "--two-stems", "vocals", "-j", "1"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    folder = out / Path(tiny_run[0]).name / "song"
    assert _files(folder) == ["no_vocals.wav", "vocals.wav"]
    vocals, no_vocals = (sf.read(str(folder / name), dtype="float32")[0] for name in ("vocals.wav", "no_vocals.wav"))
    assert np.abs(vocals).max() > 0 and np.allclose(vocals + no_vocals, mixture, atol=1e-6)
    assert main([*args, "--two-stems", "voice"]) == 1


def test_clip_modes(tmp_path: Path) -> None:
    block = torch.tensor([[0.5, -2.0, 1.5]])
    peaks = {}
    for mode in ("rescale", "clamp", "none"):
        with AudioWriter(tmp_path / f"{mode}.wav", 16000, 1, "FLOAT", clip=mode) as writer:
            writer.write(block)
        peaks[mode] = sf.read(str(tmp_path / f"{mode}.wav"), dtype="float32")[0]
    assert np.allclose(peaks["rescale"], [0.5 / 2.02, -1 / 1.01, 1.5 / 2.02])
    assert np.allclose(peaks["clamp"], [0.5, -1.0, 1.0]) and np.allclose(peaks["none"], [0.5, -2.0, 1.5])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clamp.wav", "none.wav", "rescale.wav"]


def test_rescaled_stems_are_named_with_their_gain(tiny_run, tmp_path: Path, capsys) -> None:
    mixture = _song(tmp_path / "quiet.wav", frames=6000)
    sf.write(str(tmp_path / "loud.wav"), 50 * mixture, 16000, subtype="FLOAT")  # peak far above 1
    out = tmp_path / "out"
    args = ["-n", str(tiny_run[0]), "-o", str(out), "--two-stems", "vocals"]
    assert main(["separate", str(tmp_path / "quiet.wav"), *args]) == 0
    assert "rescaled" not in capsys.readouterr().err
    assert main(["separate", str(tmp_path / "loud.wav"), *args]) == 0
    [note] = [line for line in capsys.readouterr().err.splitlines() if "rescaled" in line]
    no_vocals = sf.read(str(out / Path(tiny_run[0]).name / "loud" / "no_vocals.wav"), dtype="float32")[0]
    assert float(np.abs(no_vocals).max()) == pytest.approx(1 / 1.01, abs=1e-3)  # divided by 1.01 x its peak
    assert note.startswith("tokensep: note: rescaled to stay within ±1") and "no longer sum to the mixture" in note
    # the mixture peaks near 50 x 0.4 = 20: the mixture minus the vocals is turned down by more than 20 dB
    assert float(re.search(r"no_vocals\.wav (-[0-9.]+) dB", note).group(1)) < -20


def test_shifts_average_seeded_draws(separator: GenerativeSeparator) -> None:
    wav = 0.1 * torch.randn(1, 4000, generator=torch.Generator().manual_seed(0))
    original = separator.inference
    try:
        separator.update_inference({"sampling": {"greedy": False}, "seed": 5, "segment_seconds": 0.5, "batch_size": 64})
        first = separator.separate(wav, 16000)
        separator.update_inference({"seed": 5 + SHIFT_SEED_STRIDE})
        second = separator.separate(wav, 16000)
        separator.update_inference({"seed": 5, "shifts": 2})
        averaged = separator.separate(wav, 16000)
        for stem in first:
            assert not torch.equal(first[stem], second[stem])
            assert torch.allclose(averaged[stem], (first[stem] + second[stem]) / 2, atol=1e-5)
        with pytest.raises(ConfigError, match="shifts has no effect with greedy decoding"):
            separator.update_inference({"sampling": {"greedy": True}, "shifts": 3})
    finally:
        separator.inference = original


def test_unknown_flag_prints_separates_usage(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["separate", "song.wav", "--no-such-flag"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tokensep separate") and "unrecognized arguments: --no-such-flag" in err


# 8. leftovers ------------------------------------------------------------------------------


def test_empty_stem_list_and_failures_leave_nothing(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir = str(tiny_run[0])
    out = tmp_path / "out"
    _song(tmp_path / "song.wav")
    assert main(["separate", str(tmp_path / "song.wav"), "-n", run_dir, "-o", str(out), "--stems", ","]) == 1
    assert "--stems ',': expected comma-separated stem names" in capsys.readouterr().err
    broken = _song(tmp_path / "broken.wav", frames=8000)
    broken[6000] = np.nan
    sf.write(str(tmp_path / "broken.wav"), broken, 16000, subtype="FLOAT")
    assert main(["separate", str(tmp_path / "broken.wav"), "-n", run_dir, "-o", str(out)]) == 1
    assert "contains NaN or infinite samples" in capsys.readouterr().err
    assert _files(out) == []  # neither files nor the track folder


def test_an_interrupt_while_a_writer_opens_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM (raised as an interrupt) after the temporary file exists but before the caller holds
    the writer: the writer itself removes the file and the folders it made."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sf, "SoundFile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        AudioWriter(tmp_path / "out" / "track" / "vocals.wav", 16000, 2)
    assert _files(tmp_path) == []


@pytest.mark.slow
def test_sigterm_cleans_up_like_ctrl_c(tiny_run, tmp_path: Path) -> None:
    _song(tmp_path / "long.wav", frames=16000 * 120, channels=1)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "tokensep_core.cli.main", "separate", str(tmp_path / "long.wav"), "-n", str(tiny_run[0])]
    process = subprocess.Popen([*command, "-o", str(out), "-d", "cpu"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(out.rglob("*.part")) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert list(out.rglob("*.part")), "the separation never started writing"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 143 and "tokensep: terminated" in err
    assert _files(out) == []


# 10. noise and latency -----------------------------------------------------------------------


def test_separating_with_the_shipped_model_prints_no_future_warning(tmp_path: Path) -> None:
    """Loading plugins (dac imported) and building the shipped model (dac's weight-normed
    convolutions) print none of dac's torch deprecations, even with every FutureWarning shown."""
    _song(tmp_path / "song.wav")
    env = {k: v for k, v in os.environ.items() if k != "TOKENSEP_DISABLE_PLUGIN_AUTOLOAD"}
    env.update(PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1")
    command = [sys.executable, "-W", "always::FutureWarning", "-m", "tokensep_core.cli.main", "separate", str(tmp_path / "song.wav")]
    result = subprocess.run(
        [*command, "-o", str(tmp_path / "out"), "-d", "cpu", "--stems", "drums"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert _files(tmp_path / "out") == ["separator-small", "separator-small/song", "separator-small/song/drums.wav"]


def test_dac_deprecations_are_silenced_only_inside_the_block() -> None:
    """The filter is exactly dac's two messages, as FutureWarning, and only within the block."""
    import warnings

    from tokensep_core.deprecations import dac_deprecations_silenced

    jit = "`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`."
    norm = "`torch.nn.utils.weight_norm` is deprecated in favor of `torch.nn.utils.parametrizations.weight_norm`."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with dac_deprecations_silenced():
            warnings.warn(jit, FutureWarning, stacklevel=1)
            warnings.warn(norm, FutureWarning, stacklevel=1)
            warnings.warn(norm, DeprecationWarning, stacklevel=1)  # another category
            warnings.warn("`torch.other` is deprecated", FutureWarning, stacklevel=1)  # another message
        warnings.warn(jit, FutureWarning, stacklevel=1)  # after the block
    assert [(w.category, str(w.message)) for w in caught] == [
        (DeprecationWarning, norm),
        (FutureWarning, "`torch.other` is deprecated"),
        (FutureWarning, jit),
    ]


LIGHT_CHECK = """
import sys
from tokensep_core.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("torch", "torchaudio", "dac", "tokensep_core.plugins", "tokensep_core.separation.separator") if m in sys.modules)
print("imported:", ",".join(heavy) or "none", "code:", code)
"""


@pytest.mark.parametrize(
    "args, code",
    [(["separate", "--help"], 0), (["separate", "song.wav", "--no-such-flag"], 2), (["separate"], 2), (["plugins", "--help"], 0)],
)
def test_help_and_usage_errors_import_no_torch(args: list[str], code: int) -> None:
    """``separate --help`` and a usage error of ``separate`` are parsed without loading plugins,
    torch or the separator (they answer in a fraction of a second instead of seconds)."""
    env = {k: v for k, v in os.environ.items() if k != "TOKENSEP_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run([sys.executable, "-c", LIGHT_CHECK, *args], env=env, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == f"imported: none code: {code}", result.stdout + result.stderr
    if code == 2:
        assert result.stderr.startswith("usage: tokensep separate")


def test_top_level_help_still_lists_plugin_commands(capsys) -> None:
    """The fast path is for tokensep's own commands only: ``tokensep --help`` loads the plugins
    and lists their commands (``tokenize`` comes from tokensep_codecs' hook)."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "separate" in out and "tokenize" in out


HELP_CHECK = """
import sys
from tokensep_core.cli.main import main
try:
    main(["--help"])
except SystemExit:
    pass
components = ("torch", "dac", "encodec", "demucs", "tokensep_core.registry", "tokensep_codecs.dac_codec", "tokensep_lms.llama", "tokensep_teachers.htdemucs")
print("imported:", ",".join(m for m in components if m in sys.modules) or "none")
"""


def test_top_level_help_registers_no_component() -> None:
    """``tokensep --help`` lists every plugin's commands (load_commands) without registering
    components: no torch, codec, LM or teacher module, nor dac or demucs, is imported."""
    env = {k: v for k, v in os.environ.items() if k != "TOKENSEP_DISABLE_PLUGIN_AUTOLOAD"}
    plugins = [REPO_ROOT / "plugins" / name for name in ("tokensep-teachers", "tokensep-transient")]
    env["PYTHONPATH"] = os.pathsep.join(map(str, [REPO_ROOT, *plugins]))
    result = subprocess.run([sys.executable, "-c", HELP_CHECK], env=env, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "imported: none", result.stdout + result.stderr
    assert "tokenize" in result.stdout and "separate" in result.stdout


LAZY_IMPORT_CHECK = """
from tokensep_core.commands import lazy
lazy("tokensep_codecs.losses", "AdversarialConfig")(enabled=True).build(16000)
"""


def test_a_lazily_imported_command_module_prints_no_dac_deprecation() -> None:
    """Commands and training tasks are imported at their first call (commands.lazy); a module
    that imports dac there (``tokensep train codec``) prints none of dac's FutureWarnings, and
    neither does building dac's discriminator."""
    result = subprocess.run(
        [sys.executable, "-W", "always::FutureWarning", "-c", LAZY_IMPORT_CHECK], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "FutureWarning" not in result.stderr, result.stderr
