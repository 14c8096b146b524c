"""``TrainerConfig``: every knob of the shared trainer (the ``trainer:`` section of a training config)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tokensep_core.errors import ConfigError
from tokensep_core.runtime.precision import PrecisionField

PerGroup = float | dict[str, float]
"""One value for every optimizer group, or ``{group: value}`` naming each group."""


class TrainerConfig(BaseModel):
    """Optimisation, precision, data loading, checkpointing and logging of one training run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(1000, ge=1, description="optimizer steps to train in total (resume continues up to it)")
    max_minutes: float | None = Field(
        None,
        gt=0,
        description="time budget: stop with a checkpoint once this much training time (summed over resumes) has passed; steps still sets the schedule",
    )
    max_cpu_seconds: float | None = Field(
        None,
        gt=0,
        description="compute budget on a CPU: stop with a checkpoint once the training steps have used this much CPU time of the "
        "process (every thread counts, so it compares runs with different thread counts; summed over resumes); steps still sets "
        "the schedule. Refused on a GPU, where CPU time is not the compute: use max_minutes there",
    )
    stop_at_step: int | None = Field(
        None,
        ge=1,
        description="step budget: stop with a checkpoint at this step; steps still sets the schedule (replays a run that a time "
        "or CPU budget stopped there, on any machine)",
    )
    batch_size: int = Field(8, ge=1, description="items per micro-batch on each rank")
    grad_accumulation: int = Field(1, ge=1, description="micro-batches per optimizer step")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes per rank")
    shuffle: bool = Field(True, description="reshuffle map-style datasets every epoch (seeded)")

    lr: PerGroup = Field(3e-4, description="peak learning rate, per group or for all")
    min_lr: PerGroup = Field(0.0, description="learning rate reached at the end of the decay")
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: PerGroup = 0.0
    warmup_steps: int = Field(0, ge=0, description="linear warm-up from lr/warmup_steps to lr")
    decay: Literal["cosine", "linear", "none"] = "cosine"
    grad_clip: float | None = Field(1.0, gt=0, description="max global grad norm per group; null disables clipping")

    precision: PrecisionField = Field(
        "float32", description="autocast dtype where the device supports it (float32, bfloat16, float16); float16 uses a GradScaler"
    )
    device: str = Field("auto", description="'auto' (cuda, mps, cpu) or a torch device name; under torchrun CUDA uses cuda:LOCAL_RANK")
    seed: int = 0

    checkpoint_every: int = Field(1000, ge=0, description="steps between checkpoints; 0 = only the final one")
    keep_last: int = Field(3, ge=1, description="complete checkpoints kept; older ones are deleted")
    log_every: int = Field(10, ge=1, description="steps between metric rows (CSV, TensorBoard, progress bar)")
    eval_every: int = Field(
        500, ge=0, description="steps between held-out evaluations (the task's evaluate, logged as eval/…) and at the last step; 0 = off"
    )

    def per_group(self, field: str, groups: list[str]) -> dict[str, float]:
        """Resolve a :data:`PerGroup` field to ``{group: value}``; a dict must name exactly ``groups``."""
        value = getattr(self, field)
        if not isinstance(value, dict):
            return {group: float(value) for group in groups}
        if set(value) != set(groups):
            raise ConfigError(f"trainer.{field}: names groups {sorted(value)}, the task has {groups}")
        return {group: float(value[group]) for group in groups}
