"""The shared trainer: AdamW per optimizer group, warm-up + decay, clipping, accumulation,
autocast, atomic checkpoints with exact resume, CSV/TensorBoard logging, held-out evaluation,
data parallel."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import AdamW
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import Dataset, IterableDataset
from tqdm import tqdm

from tokensep_core import __version__
from tokensep_core.errors import CheckpointError, ConfigError, TokensepError
from tokensep_core.runtime.precision import autocast, effective_precision, grad_scaler
from tokensep_core.training import checkpoint as ckpt
from tokensep_core.training import distributed as dist_utils
from tokensep_core.training import rng
from tokensep_core.training.config import TrainerConfig
from tokensep_core.training.data import BatchStream
from tokensep_core.training.metrics_log import MetricsLog
from tokensep_core.training.schedule import WarmupDecay
from tokensep_core.training.task import EvalState, TrainingTask


class TrainingError(TokensepError):
    """Training cannot go on (a task broke its contract, or a loss became NaN/inf)."""


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` did: the step reached, the last checkpoint, the last logged value of each metric."""

    step: int
    checkpoint: Path | None
    metrics: dict[str, float] = field(default_factory=dict)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move the tensors of a tensor / dict / list / tuple batch to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _first_difference(saved: Any, current: Any, where: str = "") -> str | None:
    """Path of the first value of ``saved`` that ``current`` changes or drops, or None. Keys only
    ``current`` has are fields added since the checkpoint was written (taking their defaults),
    so a config class gaining a field does not block resuming older runs."""
    if isinstance(saved, dict) and isinstance(current, dict):
        for key in sorted(saved, key=str):
            found = _first_difference(saved[key], current.get(key), f"{where}.{key}" if where else str(key))
            if found:
                return found
        return None
    return None if saved == current else (where or "(root)")


class Trainer:
    """Train ``task`` on ``data`` into ``run_dir``; a run directory with checkpoints is resumed.

    Per step, for each optimizer group in ``task.optimizer_groups()`` order: gradients are
    cleared, the group's losses are computed on each of ``grad_accumulation`` micro-batches
    (after the previous groups have stepped) and their sum back-propagated, gradients are
    averaged over ranks, clipped, and the group's AdamW and scheduler step. Every
    ``eval_every`` steps and at the last one, rank 0 runs ``task.evaluate`` (see TrainingTask).
    """

    def __init__(self, task: TrainingTask, config: TrainerConfig, run_dir: str | Path, data: Dataset | IterableDataset) -> None:
        self.task, self.config, self.run_dir, self.data = task, config, Path(run_dir), data
        self.checkpoints_dir = self.run_dir / "checkpoints"

    def fit(self) -> FitResult:
        """Train up to ``config.steps`` (resuming from the newest complete checkpoint, if any)."""
        ctx = dist_utils.setup(self.config.device)
        try:
            result = _Run(self, ctx).train()
            # every rank leaves its collectives before any tears the group down
            dist_utils.barrier(ctx)
            return result
        finally:
            ctx.close()

    def resolved_config(self) -> dict[str, Any]:
        """What ``config.json`` holds: the task's config and the trainer's (and the task's
        component provenance, if any), JSON-normalised."""
        config = {"task": self.task.config_dict(), "trainer": self.config.model_dump(mode="json")}
        components = self.task.components()
        return json.loads(json.dumps({**config, "components": components} if components else config))


class _Run:
    """One ``fit`` call: the optimisation state and the loop."""

    def __init__(self, trainer: Trainer, ctx: dist_utils.DistContext) -> None:
        self.trainer, self.ctx, self.config, self.task = trainer, ctx, trainer.config, trainer.task
        if self.config.max_cpu_seconds is not None and ctx.device.type != "cpu":
            raise ConfigError(
                f"trainer.max_cpu_seconds: CPU time is not the training compute on {ctx.device}; give a wall-clock budget there (trainer.max_minutes)"
            )
        self.precision = effective_precision(self.config.precision, ctx.device)
        self.modules = trainer.task.modules()
        for module in self.modules.values():
            module.to(ctx.device).train()
        self.groups = self._check_groups(trainer.task.optimizer_groups())
        names = list(self.groups)
        lrs, min_lrs = self.config.per_group("lr", names), self.config.per_group("min_lr", names)
        decays = self.config.per_group("weight_decay", names)
        self.optimizers = {g: AdamW(p, lr=lrs[g], betas=self.config.betas, weight_decay=decays[g]) for g, p in self.groups.items()}
        self.schedulers = {g: LambdaLR(self.optimizers[g], self._schedule(lrs[g], min_lrs[g])) for g in names}
        self.scaler = grad_scaler(self.precision, ctx.device)
        self.stream = BatchStream(trainer.data, self.config, ctx)
        self.step = 0
        self.train_seconds = 0.0  # wall time spent in training steps, summed over resumes
        self.train_cpu_seconds = 0.0  # this process's CPU time (every thread) in training steps, summed over resumes
        self.all_params = [p for m in self.modules.values() for p in m.parameters()]

    def _schedule(self, lr: float, min_lr: float) -> WarmupDecay:
        c = self.config
        return WarmupDecay(c.steps, c.warmup_steps, c.decay, min_lr / lr if lr > 0 else 0.0)

    def _check_groups(self, groups: dict[str, list[nn.Parameter]]) -> dict[str, list[nn.Parameter]]:
        if not groups:
            raise TrainingError(f"task {type(self.task).__name__}: optimizer_groups() is empty")
        seen: dict[int, str] = {}
        out = {}
        for name, params in groups.items():
            params = [p for p in params if p.requires_grad]
            if not params:
                raise TrainingError(f"task {type(self.task).__name__}: optimizer group {name!r} has no trainable parameters")
            for p in params:
                if id(p) in seen:
                    raise TrainingError(f"task {type(self.task).__name__}: a parameter is in both groups {seen[id(p)]!r} and {name!r}")
                seen[id(p)] = name
            out[name] = params
        return out

    # -- announcements --------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.ctx.is_main:
            tqdm.write(f"[train] {message}")
            with (self.trainer.run_dir / "train.log").open("a") as f:
                f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    # -- checkpoints ----------------------------------------------------------------------------

    def _save(self) -> Path | None:
        rng_states = dist_utils.gather_objects(rng.capture(), self.ctx)
        path = None
        if self.ctx.is_main:
            state = {
                "step": self.step,
                "data": self.stream.state(),
                "world_size": self.ctx.world_size,
                "precision": self.precision,
                "train_seconds": self.train_seconds,
                "train_cpu_seconds": self.train_cpu_seconds,
            }
            optim = {
                "optimizers": {g: o.state_dict() for g, o in self.optimizers.items()},
                "schedulers": {g: s.state_dict() for g, s in self.schedulers.items()},
                "scaler": self.scaler.state_dict(),
            }
            path = ckpt.write_checkpoint(
                self.trainer.checkpoints_dir,
                self.step,
                self.modules,
                json_files={"config": self.trainer.resolved_config(), "state": state},
                torch_files={"optimizer": optim, "rng": {"ranks": rng_states}},
            )
            ckpt.prune(self.trainer.checkpoints_dir, self.config.keep_last)
        dist_utils.barrier(self.ctx)
        return path

    def _resume(self, path: Path) -> None:
        ckpt.verify_checkpoint(path)
        saved_config = ckpt.read_json(path, "config")
        diff = _first_difference(saved_config.get("task"), self.trainer.resolved_config()["task"])
        if diff:
            raise CheckpointError(f"{path / 'config.json'}: task config differs from this run's at 'task.{diff}'")
        state = ckpt.read_json(path, "state")
        if state["world_size"] != self.ctx.world_size:
            raise CheckpointError(f"{path / 'state.json'}: saved with {state['world_size']} ranks, resuming with {self.ctx.world_size}")
        ckpt.load_weights(path, self.modules, verify=False)
        optim = ckpt.read_torch(path, "optimizer", map_location=self.ctx.device)
        try:
            for g in self.groups:
                self.optimizers[g].load_state_dict(optim["optimizers"][g])
                self.schedulers[g].load_state_dict(optim["schedulers"][g])
            self.scaler.load_state_dict(optim["scaler"])
        except (KeyError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"{path / 'optimizer.pt'}: does not match this task's optimizer groups ({err})") from None
        self.step = int(state["step"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.train_cpu_seconds = float(state.get("train_cpu_seconds", 0.0))
        self._apply_current_schedule()
        self.stream.load_state(state["data"])
        rng.restore(ckpt.read_torch(path, "rng")["ranks"][self.ctx.rank])

    def _apply_current_schedule(self) -> None:
        """After loading: the config's schedule and AdamW hyper-parameters govern the remaining
        steps (identical to the saved ones unless the config was edited, e.g. more steps)."""
        names = list(self.groups)
        lrs, min_lrs = self.config.per_group("lr", names), self.config.per_group("min_lr", names)
        decays = self.config.per_group("weight_decay", names)
        for g in names:
            schedule = self._schedule(lrs[g], min_lrs[g])
            scheduler = self.schedulers[g]
            scheduler.lr_lambdas = [schedule]
            scheduler.base_lrs = [lrs[g]]
            for param_group in self.optimizers[g].param_groups:
                param_group.update(initial_lr=lrs[g], lr=lrs[g] * schedule(self.step), betas=self.config.betas, weight_decay=decays[g])
            scheduler._last_lr = [lrs[g] * schedule(self.step)]

    # -- the loop -------------------------------------------------------------------------------

    def _spent_budget(self) -> str | None:
        """The step, time or CPU budget this process has used up, in words; None while each lasts."""
        c = self.config
        if c.stop_at_step is not None and self.step >= c.stop_at_step:
            return f"step budget of {c.stop_at_step} steps"
        if c.max_minutes is not None and self.train_seconds >= 60 * c.max_minutes:
            return f"time budget of {c.max_minutes:g} min"
        if c.max_cpu_seconds is not None and self.train_cpu_seconds >= c.max_cpu_seconds:
            return f"CPU budget of {c.max_cpu_seconds:g} CPU s"
        return None

    def _train_step(self) -> dict[str, Tensor]:
        accum = self.config.grad_accumulation
        micro = [to_device(self.stream.next(), self.ctx.device) for _ in range(accum)]
        states: list[dict[str, Any]] = [{} for _ in micro]
        metrics: dict[str, Tensor] = {}
        for group, params in self.groups.items():
            for p in self.all_params:
                p.grad = None
            total_sum = torch.zeros((), device=self.ctx.device)
            for batch, state in zip(micro, states):
                with autocast(self.precision, self.ctx.device):
                    terms = self.task.losses(group, batch, state)
                if not terms:
                    raise TrainingError(f"task {type(self.task).__name__}: losses({group!r}) returned no terms")
                total = sum(t.float() for t in terms.values())
                if not total.requires_grad:
                    raise TrainingError(
                        f"task {type(self.task).__name__}: the losses of group {group!r} do not depend on trainable parameters"
                    )
                self.scaler.scale(total / accum).backward()
                for name, value in {**terms, **self.task.metrics(group, state)}.items():
                    key = f"{group}/{name}"
                    metrics[key] = metrics.get(key, 0) + value.detach().float() / accum
                total_sum += total.detach() / accum
            metrics[f"{group}/total"] = total_sum
            dist_utils.average_gradients(params, self.ctx.world_size)
            optimizer = self.optimizers[group]
            self.scaler.unscale_(optimizer)
            norm = torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip or math.inf)
            metrics[f"{group}/grad_norm"] = norm.detach()
            metrics[f"{group}/lr"] = torch.tensor(optimizer.param_groups[0]["lr"])
            self.scaler.step(optimizer)
            self.schedulers[group].step()
        self.scaler.update()
        for p in self.all_params:
            p.grad = None
        return metrics

    def _evaluate(self) -> dict[str, float]:
        """``task.evaluate`` on rank 0 in eval mode, without gradients, under autocast, with every
        generator's state restored afterwards; its scalars prefixed ``eval/``."""
        if not self.ctx.is_main:
            return {}
        modes = [(m, m.training) for module in self.modules.values() for m in module.modules()]
        saved = rng.capture()
        try:
            for module in self.modules.values():
                module.eval()
            with torch.no_grad(), autocast(self.precision, self.ctx.device):
                scores = self.task.evaluate(EvalState(self.step, self.ctx.device, self.precision))
        finally:
            rng.restore(saved)
            for m, training in modes:
                m.train(training)
        return {f"eval/{name}": float(value) for name, value in scores.items()}

    def train(self) -> FitResult:
        ctx, config = self.ctx, self.config
        run_dir = self.trainer.run_dir
        if ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            ckpt.remove_leftovers(self.trainer.checkpoints_dir)
        dist_utils.barrier(ctx)
        found = ckpt.list_checkpoints(self.trainer.checkpoints_dir)
        if found:
            self._resume(found[-1])
            self._say(f"resumed from {found[-1]} (step {self.step})")
        else:
            dist_utils.broadcast_state(self.modules.values(), buffers_only=False)
            rng.seed_all(config.seed, ctx.rank)
        if ctx.is_main:
            (run_dir / "config.json").write_text(
                json.dumps({**self.trainer.resolved_config(), "tokensep": __version__, "torch": torch.__version__}, indent=2)
            )
        note = "" if self.precision == config.precision else f" (requested {config.precision}: not supported on {ctx.device.type})"
        self._say(f"device {ctx.device}, {ctx.world_size} rank(s), precision {self.precision}{note}, groups {list(self.groups)}")
        dist_utils.barrier(ctx)

        last_checkpoint = found[-1] if found else None
        last_metrics: dict[str, float] = {}
        if self.step >= config.steps or self._spent_budget():
            return FitResult(self.step, last_checkpoint, last_metrics)
        log = MetricsLog(run_dir, self.step) if ctx.is_main else None
        bar = tqdm(total=config.steps, initial=self.step, desc="train", disable=not ctx.is_main, dynamic_ncols=True)
        try:
            while self.step < config.steps:
                started, cpu_started = time.perf_counter(), time.process_time()
                dist_utils.broadcast_state(self.modules.values(), buffers_only=True)
                metrics = self._train_step()
                self.step += 1
                self.train_seconds += time.perf_counter() - started
                self.train_cpu_seconds += time.process_time() - cpu_started
                bar.update(1)
                spent = self._spent_budget()
                budgeted = config.max_minutes is not None or config.max_cpu_seconds is not None or config.stop_at_step is not None
                out_of_budget = budgeted and dist_utils.any_rank(spent is not None, ctx)
                last = self.step == config.steps or out_of_budget
                row: dict[str, float] = {}
                if self.step % config.log_every == 0 or last:
                    values = dist_utils.all_mean({k: float(v) for k, v in metrics.items()}, ctx)
                    values["step_time"] = time.perf_counter() - started
                    bad = [k for k, v in values.items() if not math.isfinite(v)]
                    if bad and self.precision != "float16":
                        raise TrainingError(f"step {self.step}: {bad[0]} is {values[bad[0]]}")
                    row.update(values)
                    if log:
                        bar.set_postfix({k.replace("/total", ""): f"{v:.4g}" for k, v in values.items() if k.endswith("/total")})
                if config.eval_every and (self.step % config.eval_every == 0 or last):
                    row.update(self._evaluate())
                if row:
                    last_metrics = {**last_metrics, **row}
                    if log:
                        log.write(self.step, row)
                if (config.checkpoint_every and self.step % config.checkpoint_every == 0) or self.step == config.steps or out_of_budget:
                    last_checkpoint = self._save() or last_checkpoint
                if out_of_budget:
                    self._say(f"{spent or 'the budget of another rank'} used up at step {self.step}")
                    break
        finally:
            bar.close()
            if log:
                log.close()
        return FitResult(self.step, last_checkpoint, last_metrics)


def train(task: TrainingTask, config: TrainerConfig, run_dir: str | Path, dataset: Dataset | IterableDataset) -> FitResult:
    """Train (or resume training) ``task`` on ``dataset`` into ``run_dir``."""
    return Trainer(task, config, run_dir, dataset).fit()
