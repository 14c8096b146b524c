from pathlib import Path

import pretty_midi
import pytest
import torch

from tokensep_codecs.debug import DebugCodec, DebugCodecConfig
from tokensep_core import STEMS
from tokensep_core.audio.io import write_audio
from tokensep_core.data.procedural import ProceduralRenderer
from tokensep_core.interfaces import KINDS, Song, StemDataset, StepPlan, TrainOutput
from tokensep_core.testing import (
    CHECKS,
    ConformanceError,
    check_codec,
    check_dataset,
    check_lm,
    check_pattern,
    check_registered,
    check_renderer,
    check_trainable_codec,
)
from tokensep_core.tokens.patterns import DelayPattern, ParallelPattern
from tokensep_lms.debug import DebugLM, DebugLMConfig


@pytest.mark.parametrize("kind", ["codec", "encoder", "lm"])
def test_debug_components_conform(kind: str) -> None:
    check_registered(kind, "debug")


class ShortCodec(DebugCodec):
    """Drops the last frame: breaks the encode shape contract."""

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        return super().encode(wav)[..., :-1]


class ForgetfulLM(DebugLM):
    """Ignores its cache: incremental decoding disagrees with a full forward."""

    def forward(self, tokens, prefix=None, prefix_mask=None, cache=None):
        logits, new_cache = super().forward(tokens, prefix, prefix_mask, None)
        return logits, new_cache


def test_suite_catches_a_wrong_code_shape() -> None:
    with pytest.raises(ConformanceError, match="expected codes"):
        check_codec(ShortCodec(DebugCodecConfig()))


def test_suite_catches_a_cache_that_is_ignored() -> None:
    torch.manual_seed(0)
    with pytest.raises(ConformanceError, match="cache"):
        check_lm(ForgetfulLM(DebugLMConfig()))


def test_llama_cache_selection_conforms_and_a_wrong_one_is_caught() -> None:
    from tokensep_lms.llama import LlamaLM, LlamaLMConfig

    class MisselectingLM(LlamaLM):
        """Hands every row the first row's prefix."""

        def select_cache(self, cache, rows):
            return super().select_cache(cache, torch.zeros_like(rows))

    torch.manual_seed(0)
    check_lm(LlamaLM(LlamaLMConfig(preset="tiny")))
    torch.manual_seed(0)
    with pytest.raises(ConformanceError, match="select_cache"):
        check_lm(MisselectingLM(LlamaLMConfig(preset="tiny")))


def test_every_kind_has_a_check() -> None:
    assert set(CHECKS) == set(KINDS), f"kinds without a conformance check: {sorted(set(KINDS) - set(CHECKS))}"


@pytest.mark.parametrize("name", ["delay", "flatten", "parallel"])
def test_builtin_patterns_conform(name: str) -> None:
    check_registered("pattern", name)


@pytest.mark.parametrize("name", ["independent", "interleaved", "sequential"])
def test_builtin_track_orders_conform(name: str) -> None:
    check_registered("track_order", name)


def test_builtin_renderers_conform() -> None:
    check_registered("renderer", "procedural")
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"  # small, so FluidSynth starts fast
    check_registered("renderer", "soundfont", {"soundfont": str(bundled), "reverb": False})


def _write_song(folder: Path, stems: tuple[str, ...], seed: int, mixture: bool = True) -> None:
    """Stereo stems of 0.2 s at 8 kHz (PCM 16) and, when asked, their sum as the mixture."""
    generator = torch.Generator().manual_seed(seed)
    waves = {stem: 0.1 * torch.randn(2, 1600, generator=generator) for stem in stems}
    for stem, wav in waves.items():
        write_audio(folder / f"{stem}.wav", wav, 8000)
    if mixture:
        write_audio(folder / "mixture.wav", sum(waves.values()), 8000)


def test_builtin_datasets_conform(tmp_path: Path) -> None:
    check_registered("dataset", "synthetic", {"songs": 2, "seconds": 0.5, "sample_rate": 8000, "split": "all"})
    for split, seed in (("train", 0), ("test", 1), ("test", 2)):
        _write_song(tmp_path / "musdb" / split / f"song {seed}", STEMS, seed)
    musdb = check_registered("dataset", "musdb", {"root": str(tmp_path / "musdb"), "split": "test", "sample_rate": 8000})
    assert len(musdb) == 2
    for seed in (0, 1):
        _write_song(tmp_path / "folder" / f"song {seed}", ("piano", "drums"), seed, mixture=False)
    folder = check_registered("dataset", "stems_folder", {"root": str(tmp_path / "folder"), "sample_rate": 8000})
    assert set(folder.stems) == {"piano", "drums"}


class SwappedPlanDelay(DelayPattern):
    """Builds like the delay pattern but its plan names the codebooks in reverse order."""

    def plan(self, num_frames: int, num_codebooks: int, codebook_size: int) -> StepPlan:
        plan = super().plan(num_frames, num_codebooks, codebook_size)
        swapped = torch.where(plan.codebook >= 0, num_codebooks - 1 - plan.codebook, -1)
        return StepPlan(swapped, plan.low, plan.high)


class UnpaddedPlanParallel(ParallelPattern):
    """Its plan pads the last step, where build puts codes."""

    def plan(self, num_frames: int, num_codebooks: int, codebook_size: int) -> StepPlan:
        plan = super().plan(num_frames, num_codebooks, codebook_size)
        codebook = plan.codebook.clone()
        codebook[:, -1] = -1
        return StepPlan(codebook, plan.low, torch.where(codebook >= 0, plan.high, 0))


def test_suite_catches_a_plan_that_disagrees_with_build() -> None:
    with pytest.raises(
        ConformanceError, match=r"^pattern SwappedPlanDelay: plan says step 0 of stream 0 holds codebook 2, but changing it"
    ):
        check_pattern(SwappedPlanDelay())
    with pytest.raises(ConformanceError, match=r"^pattern UnpaddedPlanParallel: plan pads step 6 of stream 0 but build put id \d+ there"):
        check_pattern(UnpaddedPlanParallel())


class SongList(StemDataset):
    """Songs held in memory."""

    def __init__(self, songs: list[Song], stems: tuple[str, ...], sample_rate: int = 8000) -> None:
        self.songs, self.stems, self.sample_rate = songs, stems, sample_rate

    def __len__(self) -> int:
        return len(self.songs)

    def __getitem__(self, index: int) -> Song:
        return self.songs[index]


def _song(stems: tuple[str, ...], seed: int) -> Song:
    generator = torch.Generator().manual_seed(seed)
    waves = {stem: torch.randn(2, 800, generator=generator) for stem in stems}
    return Song(f"song {seed}", 8000, sum(waves.values()), waves)


def test_in_memory_dataset_conforms_and_broken_ones_are_caught() -> None:
    check_dataset(SongList([_song(STEMS, 0), _song(STEMS, 1)], STEMS))
    with pytest.raises(
        ConformanceError, match=r"^dataset SongList: dataset\[1\] has stems \['bass', 'drums', 'vocals'\], the dataset's stems are"
    ):
        check_dataset(SongList([_song(STEMS, 0), _song(("vocals", "drums", "bass"), 1)], STEMS))
    loud = _song(STEMS, 0)
    loud.mixture = loud.mixture * 2
    with pytest.raises(ConformanceError, match=r"^dataset SongList: dataset\[0\]: the stems sum to the mixture only within"):
        check_dataset(SongList([loud], STEMS))
    check_dataset(SongList([loud], STEMS), mixture_is_sum=False)

    class Cyclic(SongList):
        """Wraps indices past the end around instead of raising IndexError."""

        def __getitem__(self, index: int) -> Song:
            return self.songs[index % len(self.songs)]

    with pytest.raises(ConformanceError, match=r"^dataset Cyclic: dataset\[len\(dataset\)\] returned a song instead of raising IndexError"):
        check_dataset(Cyclic([_song(STEMS, 0)], STEMS))


class NoisyRenderer(ProceduralRenderer):
    """Adds noise from the global generator: two renders of one seed differ."""

    def render(self, seed: int, seconds: float, sample_rate: int) -> dict[str, torch.Tensor]:
        return {stem: wav + 1e-3 * torch.rand_like(wav) for stem, wav in super().render(seed, seconds, sample_rate).items()}


class SeedlessRenderer(ProceduralRenderer):
    """Ignores its seed: every song is the same."""

    def render(self, seed: int, seconds: float, sample_rate: int) -> dict[str, torch.Tensor]:
        return super().render(0, seconds, sample_rate)


def test_suite_catches_a_renderer_that_is_not_deterministic_or_ignores_its_seed() -> None:
    with pytest.raises(ConformanceError, match=r"^renderer NoisyRenderer: two renders of seed 0 differ \(not deterministic\)"):
        check_renderer(NoisyRenderer())
    with pytest.raises(ConformanceError, match=r"^renderer SeedlessRenderer: seeds 0 and 1 render the same song"):
        check_renderer(SeedlessRenderer())


class UnreducedLossCodec(DebugCodec):
    """Returns its L1 loss per item instead of as a scalar."""

    def forward(self, wav: torch.Tensor) -> TrainOutput:
        output = super().forward(wav)
        output.losses["l1"] = (output.recon - output.target).abs().mean(dim=(1, 2))
        return output


def test_trainable_codec_conforms_and_a_non_scalar_loss_is_caught() -> None:
    torch.manual_seed(0)
    check_trainable_codec(DebugCodec(DebugCodecConfig(channels=2)))
    with pytest.raises(
        ConformanceError, match=r"^codec UnreducedLossCodec: training loss 'l1' must be a scalar tensor, got float32 \[2\]$"
    ):
        check_trainable_codec(UnreducedLossCodec(DebugCodecConfig()))


def test_a_codec_that_is_not_trainable_is_refused_by_the_training_check(example_plugin: str) -> None:
    from tokensep_example.mulaw import MuLawCodec

    with pytest.raises(ConformanceError, match=r"^codec MuLawCodec does not implement TrainableCodec"):
        check_trainable_codec(MuLawCodec(MuLawCodec.Config()))
