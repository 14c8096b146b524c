"""The contracts of tokensep's component kinds (see DESIGN.md, "Vocabulary").

Shape letters: B batch, C audio channels, T samples, K codebooks, T' codec frames,
S sequence steps, P prefix (conditioning) steps, D model width, V output vocabulary,
N stems.
Neural components are ``torch.nn.Module`` subclasses; the others are plain objects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel
from torch import Tensor, nn

from tokensep_core.lm.family import FamilyRef, LMFamily


class Codec(nn.Module, ABC):
    """Waveform ⇄ discrete codes.

    Attributes every codec sets in ``__init__``: ``sample_rate`` (Hz), ``channels``,
    ``frame_rate`` (code frames per second), ``num_codebooks`` (K), ``codebook_size``.
    """

    sample_rate: int
    channels: int
    frame_rate: float
    num_codebooks: int
    codebook_size: int

    @property
    def hop_length(self) -> int:
        """Samples per code frame."""
        return round(self.sample_rate / self.frame_rate)

    @abstractmethod
    def encode(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` float at ``sample_rate`` -> codes ``[B, K, T']`` int64,
        ``T' = ceil(T / hop_length)``, values in ``[0, codebook_size)``."""

    @abstractmethod
    def decode(self, codes: Tensor) -> Tensor:
        """codes ``[B, K, T']`` -> wav ``[B, C, T' * hop_length]``."""


@dataclass
class TrainOutput:
    """One training forward of a :class:`TrainableCodec`, in its coded domain: mono items
    ``N = B * C`` (channels folded into the batch).

    ``recon`` and ``target``: ``[N, 1, T]``, what a discriminator scores; ``losses``: the weighted
    non-adversarial terms, scalars ``{name: []}`` that the trainer sums; ``codes``: the ids this
    forward chose, ``[N', K, T']`` (codec training logs their per-codebook perplexity; None: not
    reported)."""

    recon: Tensor
    target: Tensor
    losses: dict[str, Tensor]
    codes: Tensor | None = None


class AdversarialSettings(Protocol):
    """What codec training reads of a codec's ``adversarial_config``
    (tokensep_codecs.losses.AdversarialConfig implements it)."""

    enabled: bool
    generator_weight: float
    feature_weight: float

    def build(self, sample_rate: int) -> nn.Module:
        """The discriminator, scored with descript-audio-codec's ``GANLoss``: mono items
        ``[N, 1, T]`` -> one list of feature maps per sub-discriminator, the last its logits."""


class TrainableCodec(Codec):
    """A codec ``tokensep train codec`` can train (tokensep_codecs.training.CodecTrainingTask).

    Attribute ``config``: its pydantic Config, saved with the training run."""

    config: BaseModel

    @property
    @abstractmethod
    def adversarial_config(self) -> AdversarialSettings:
        """Whether the trainer adds a discriminator (``enabled``) and how it weighs the adversarial
        and feature-matching terms it adds to :meth:`forward`'s losses."""

    @abstractmethod
    def forward(self, wav: Tensor) -> TrainOutput:
        """One training forward: wav ``[B, C, T]`` at ``sample_rate`` -> recon and target
        ``[B * C, 1, T]`` and scalar losses (the codec's own terms, no adversarial ones)."""


class ConditionEncoder(nn.Module, ABC):
    """Mixture -> conditioning embeddings used as the LM's prefix.

    Attributes: ``sample_rate`` and ``channels`` it expects, ``output_dim`` (D),
    ``frame_rate`` (prefix steps per second of audio).
    """

    sample_rate: int
    channels: int
    output_dim: int
    frame_rate: float

    @abstractmethod
    def prepare(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` -> features (e.g. log-mel ``[B, F, S]``), with no learned parameters,
        so data loaders may compute them once."""

    @abstractmethod
    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """features from ``prepare`` -> (embeds ``[B, P, D]``, mask ``[B, P]`` bool, True = valid).

        ``lengths`` ``[B]`` counts the valid feature frames of each item (None: all valid)."""


class LMCache(ABC):
    """Opaque incremental-decoding state of a :class:`TokenLM`; only its LM reads it."""

    @property
    @abstractmethod
    def length(self) -> int:
        """Number of positions (prefix included) already held."""


class LanguageModel(nn.Module, ABC):
    """Any LM that turns a prefix ``[B, P, D]`` into stem codes; its :class:`LMFamily` (class
    attribute ``family``) says how the pipeline shapes, trains, runs and checks it. A plugin adds
    a family by subclassing this with its own interface and family object.

    Attributes: ``family``, ``num_codebooks`` (K), ``codebook_size`` (V of the logits),
    ``vocab_size`` (input ids), ``dim`` (D of the prefix), ``conditioning``: how it reads the
    condition, ``prefix`` (before the tokens), ``frame`` (resampled to codec frames and added to
    the steps of each frame: ``frame_cond``) or ``both`` (see tokensep_core.lm.conditioning).
    """

    family: LMFamily
    num_codebooks: int
    codebook_size: int
    vocab_size: int
    dim: int
    conditioning: str = "prefix"


class TokenLM(LanguageModel):
    """Decoder-only LM over K parallel codebook streams (the autoregressive family).

    Input ids live in ``[0, vocab_size)``: the first ``codebook_size`` ids are codes, the rest
    are special ids (padding, stem start tokens, …; see tokensep_core.tokens.special).
    Output logits cover the codes only: ``V = codebook_size``. With a pattern and a track order,
    K and ``codebook_size`` are the layout's (tokensep_core.tokens.layout.TokenLayout), which can
    differ from the codec's (flatten: one stream of K·size ids; interleaved: streams × stems).
    """

    family = FamilyRef("tokensep_core.lm.ar_family:AUTOREGRESSIVE")

    @abstractmethod
    def forward(
        self,
        tokens: Tensor,
        prefix: Tensor | None = None,
        prefix_mask: Tensor | None = None,
        cache: LMCache | None = None,
        frame_cond: Tensor | None = None,
    ) -> tuple[Tensor, LMCache]:
        """tokens ``[B, K, S]`` int64; prefix ``[B, P, D]`` and prefix_mask ``[B, P]`` (True =
        valid) only when ``cache`` is None; frame_cond ``[B, S, D]``, with any call: a condition
        added to each token step's input -> (logits ``[B, K, S, V]`` for the token positions,
        a new cache holding prefix + tokens; the given cache stays valid)."""

    def select_cache(self, cache: LMCache, rows: Tensor) -> LMCache:
        """A cache whose batch row i is row ``rows[i]`` of ``cache`` (``rows [B']`` int64, may
        repeat); ``cache`` stays valid. Optional: generation then shares one prefix call among
        rows with the same condition. The default raises NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} cannot select cache rows")

    @property
    def selects_cache(self) -> bool:
        """Whether this LM implements :meth:`select_cache`."""
        return type(self).select_cache is not TokenLM.select_cache


class MaskedTokenLM(LanguageModel):
    """Bidirectional LM that fills masked codes of several stems of a chunk at once (the masked
    family: iterative parallel decoding, see tokensep_core.lm.masked_generation).

    It reads the codec's codes directly: no pattern or track order. Input ids are codes in
    ``[0, codebook_size)`` and ``mask_id`` (= ``codebook_size``) where a code is unknown; output
    logits cover the codes: ``V = codebook_size``. Attributes: ``num_codebooks`` (the codec's K),
    ``codebook_size`` (the codec's), ``vocab_size`` (codes + mask id), ``dim`` (D of prefix),
    ``stems`` (every stem it can generate), ``mask_id``, and ``passes``: the default number of
    decoding passes per codebook level (coarse first; the last entry repeats for finer levels).
    """

    family = FamilyRef("tokensep_core.lm.masked_family:MASKED")
    stems: tuple[str, ...]
    mask_id: int
    passes: tuple[int, ...]

    @abstractmethod
    def forward(
        self,
        tokens: Tensor,
        prefix: Tensor | None = None,
        prefix_mask: Tensor | None = None,
        stems: Sequence[str] | None = None,
        codebook: int | None = None,
        frame_cond: Tensor | None = None,
    ) -> Tensor:
        """tokens ``[B, N, K, T]`` int64 for the N ``stems`` (default: all of ``self.stems``);
        prefix ``[B, P, D]``, prefix_mask ``[B, P]`` (True = valid); frame_cond ``[B, T, D]``
        added to every stem's frame t -> logits ``[B, N, K, T, V]``, or ``[B, N, 1, T, V]`` for
        that ``codebook`` only (decoding needs one level per pass)."""


@dataclass(frozen=True)
class StepPlan:
    """What a pattern puts at each step of one stem: ``[K', S]`` tensors.

    ``codebook``: codebook whose code sits at the step, -1 where the pattern pads;
    ``low``/``high``: the ids that may be generated there, ``[low, high)`` (empty where padded);
    ``frame``: the codec frame whose code sits there, -1 where padded (None: the pattern does not
    say, and frame conditioning cannot use it).
    """

    codebook: Tensor
    low: Tensor
    high: Tensor
    frame: Tensor | None = None


class CodebookPattern(ABC):
    """How K codebooks × T' frames are laid out as K' parallel LM streams of S steps.

    A stream holds code ids in ``[0, code_vocab)``; ids from ``code_vocab`` up are special
    (padding, stem starts) and never produced by :meth:`build` except ``pad_id``.
    """

    @abstractmethod
    def num_streams(self, num_codebooks: int) -> int:
        """K' for K codebooks."""

    @abstractmethod
    def code_vocab(self, num_codebooks: int, codebook_size: int) -> int:
        """Number of code ids a stream can hold (the LM's ``codebook_size``)."""

    @abstractmethod
    def num_steps(self, num_frames: int, num_codebooks: int) -> int:
        """S for a sequence of ``num_frames`` frames."""

    @abstractmethod
    def build(self, codes: Tensor, codebook_size: int, pad_id: int) -> Tensor:
        """codes ``[B, K, T']`` in ``[0, codebook_size)`` -> steps ``[B, K', S]`` with ``pad_id``
        where no code is due."""

    @abstractmethod
    def revert(self, steps: Tensor, num_codebooks: int, codebook_size: int) -> Tensor:
        """Exact inverse of :meth:`build`: steps ``[B, K', S]`` -> codes ``[B, K, T']``."""

    @abstractmethod
    def plan(self, num_frames: int, num_codebooks: int, codebook_size: int) -> StepPlan:
        """Which codebook each step holds and which ids may be generated there."""


@dataclass(frozen=True)
class TrackSegment:
    """Where one stem's steps sit inside combined sequences ``[B', K'', S'']``:
    ``sequences[rows, streams, start : start + length]``; its start token is at ``start - 1``."""

    stem: str
    start: int
    length: int
    rows: slice = field(default_factory=lambda: slice(None))
    streams: slice = field(default_factory=lambda: slice(None))


@dataclass(frozen=True)
class TrackLayout:
    """How :meth:`TrackOrder.combine` arranged the stems.

    ``condition_rows`` ``[B']``: the input batch row each combined row is conditioned on.
    """

    segments: tuple[TrackSegment, ...]
    condition_rows: Tensor

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(seg.stem for seg in self.segments)


class TrackOrder(ABC):
    """How several stems' step sequences share LM sequences (sequential, independent, interleaved).

    Attribute ``stems``: every stem the order knows, in generation order.
    """

    stems: tuple[str, ...]

    @abstractmethod
    def num_streams(self, streams_per_stem: int) -> int:
        """K'' of the combined sequences when each stem has ``streams_per_stem`` streams."""

    @abstractmethod
    def stems_to_generate(self, requested: Sequence[str]) -> tuple[str, ...]:
        """The stems that must be generated (in order) to obtain ``requested``."""

    @abstractmethod
    def combine(self, stem_steps: Mapping[str, Tensor], start_ids: Mapping[str, int]) -> tuple[Tensor, TrackLayout]:
        """Per-stem steps ``{stem: [B, K', S]}`` -> (sequences ``[B', K'', S'']``, layout); each
        stem's steps are preceded by a step holding ``start_ids[stem]``."""

    def split(self, sequences: Tensor, layout: TrackLayout) -> dict[str, Tensor]:
        """Inverse of :meth:`combine`: sequences ``[B', K'', S'']`` -> ``{stem: [B, K', S]}``."""
        return {seg.stem: sequences[seg.rows, seg.streams, seg.start : seg.start + seg.length] for seg in layout.segments}


class Separator(ABC):
    """Anything that turns a mixture into stems: the generative pipeline and baselines alike."""

    stems: tuple[str, ...]
    stochastic: bool = False
    """Whether different seeds can give different stems (a sampling separator); evaluation then
    separates once per seed, calling :meth:`set_seed` first."""

    def set_seed(self, seed: int) -> None:
        """Seed this separator's own sampler, if it has one (the global generators are seeded by
        the caller); by default there is none."""
        return None

    @abstractmethod
    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        """mixture ``[C, T]`` at ``sample_rate`` -> ``{stem: [C, T]}`` at the same rate, channels
        and length."""

    def separate_song(self, song: Song) -> dict[str, Tensor]:
        """Separate ``song.mixture``. Evaluation calls this, so separators that need more than
        the mixture (the oracle reads the reference stems) override it."""
        return self.separate(song.mixture, song.sample_rate)

    def code_counts(self, song: Song) -> tuple[dict[str, Tensor], dict[str, Tensor]] | None:
        """For a separator that generates codec codes: id counts ``{stem: [K, V]}`` of the codes
        generated since the previous call, and of ``song``'s reference stems encoded by the same
        codec (evaluation reports their health side by side). None: this separator has no codes."""
        return None


class MixtureDecoder(nn.Module, ABC):
    """Splits a full-band mixture into stems, guided by generated stems (e.g. a generative
    separator's codec-rate stems, converted to the mixture's rate): the learned version of
    tokensep_core.separation.mixture_fit's soft masks.

    Attributes: ``stems`` (the guides' stems, in order; N = ``len(stems)``) and ``uses_guides``
    (False: an ablation whose outputs never depend on the guides).
    """

    stems: tuple[str, ...]
    uses_guides: bool

    @abstractmethod
    def forward(self, mixture: Tensor, guides: Tensor, sample_rate: int, band_hz: float | None = None) -> Tensor:
        """mixture ``[B, C, T]``, guides ``[B, N, C, T]`` at ``sample_rate``, carrying content up
        to ``band_hz`` (None: the whole band) -> stems ``[B, N, C, T]`` whose sum over N is the
        mixture (up to STFT round-off)."""


class Metric(ABC):
    """(reference, estimate, sample_rate) -> a score; ``higher_is_better`` tells its direction."""

    name: str
    higher_is_better: bool = True

    @abstractmethod
    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference and estimate ``[C, T]`` -> score."""


@dataclass
class Song:
    """One song: mixture and stems ``[C, T]`` at ``sample_rate``."""

    name: str
    sample_rate: int
    mixture: Tensor
    stems: dict[str, Tensor] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


class StemDataset(ABC):
    """A collection of songs with stems."""

    stems: tuple[str, ...]
    sample_rate: int

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __getitem__(self, index: int) -> Song: ...

    def __iter__(self) -> Iterator[Song]:
        for i in range(len(self)):
            yield self[i]


class Renderer(ABC):
    """Synthesizes one song's stems from a seed (used by ``tokensep data synth``)."""

    @abstractmethod
    def render(self, seed: int, seconds: float, sample_rate: int) -> dict[str, Tensor]:
        """-> ``{stem: [2, round(seconds * sample_rate)]}`` float32 for the four stems."""


KINDS: dict[str, type] = {
    "codec": Codec,
    "encoder": ConditionEncoder,
    "lm": LanguageModel,
    "pattern": CodebookPattern,
    "track_order": TrackOrder,
    "separator": Separator,
    "metric": Metric,
    "dataset": StemDataset,
    "renderer": Renderer,
    "mixture_decoder": MixtureDecoder,
}
"""Every component kind the registry knows, with the interface its components must implement
(an LM family's own interface subclasses :class:`LanguageModel`)."""


def kind_interfaces(kind: str) -> tuple[type, ...]:
    """The interfaces a component of ``kind`` may implement (one of them)."""
    return (KINDS[kind],)


def parameter_count(module: nn.Module) -> int:
    """Number of parameters of a module."""
    return sum(p.numel() for p in module.parameters())
