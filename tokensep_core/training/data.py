"""Deterministic, resumable, rank-sharded batches from any torch ``Dataset`` or ``IterableDataset``.

Every item is produced with the python/numpy/torch generators seeded from
(seed, epoch, position in the epoch), so random crops or augmentations inside a dataset give the
same item whether it is read by the main process or a worker, in one run or after a resume.
The stream's position is (epoch, batches consumed this epoch) and is stored in checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler, get_worker_info

from tokensep_core.errors import ConfigError
from tokensep_core.training import rng
from tokensep_core.training.config import TrainerConfig
from tokensep_core.training.distributed import DistContext, any_rank

ItemKey = tuple[int, int, int]
"""(epoch, position in the epoch's permutation, dataset index)."""


class _SeededItems(Dataset):
    """``dataset[index]`` under generators seeded from (seed, epoch, position)."""

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset, self.seed = dataset, seed

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: ItemKey) -> Any:
        epoch, position, index = key
        with rng.seeded(rng.derive_seed(self.seed, epoch, position)):
            return self.dataset[index]


class _EpochBatchSampler(Sampler[list[ItemKey]]):
    """This rank's batches of one epoch of a seeded permutation, from batch ``start`` on.

    Like ``DistributedSampler`` + ``BatchSampler(drop_last=True)``: every rank gets the same
    number of whole batches, so ranks never wait on each other at an epoch's end.
    """

    def __init__(self, size: int, batch_size: int, ctx: DistContext, seed: int, shuffle: bool) -> None:
        self.size, self.batch_size, self.ctx, self.seed, self.shuffle = size, batch_size, ctx, seed, shuffle
        self.epoch, self.start = 0, 0

    @property
    def batches_per_epoch(self) -> int:
        return self.size // (self.batch_size * self.ctx.world_size)

    def __len__(self) -> int:
        return self.batches_per_epoch - self.start

    def __iter__(self) -> Iterator[list[ItemKey]]:
        if self.shuffle:
            order = torch.randperm(self.size, generator=torch.Generator().manual_seed(rng.derive_seed(self.seed, self.epoch)))
        else:
            order = torch.arange(self.size)
        world, rank = self.ctx.world_size, self.ctx.rank
        for b in range(self.start, self.batches_per_epoch):
            positions = range((b * self.batch_size) * world + rank, ((b + 1) * self.batch_size) * world, world)
            yield [(self.epoch, p, int(order[p])) for p in positions]


class _ShardedIterable(IterableDataset):
    """Item ``i`` of the wrapped iterable goes to shard ``i mod (ranks × workers)``; each item is
    drawn under generators seeded from (seed, epoch, i)."""

    def __init__(self, dataset: IterableDataset, seed: int, ctx: DistContext) -> None:
        self.dataset, self.seed, self.ctx = dataset, seed, ctx
        self.epoch = 0

    def __iter__(self) -> Iterator[Any]:
        worker = get_worker_info()
        workers, worker_id = (worker.num_workers, worker.id) if worker else (1, 0)
        shards, shard = self.ctx.world_size * workers, self.ctx.rank * workers + worker_id
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        items = iter(self.dataset)
        position = 0
        while True:
            with rng.seeded(rng.derive_seed(self.seed, self.epoch, position)):
                try:
                    item = next(items)
                except StopIteration:
                    return
            if position % shards == shard:
                yield item
            position += 1


class BatchStream:
    """Endless batches for one rank; ``state()``/``load_state()`` give and restore its position."""

    def __init__(self, dataset: Dataset | IterableDataset, config: TrainerConfig, ctx: DistContext) -> None:
        self.ctx, self.name = ctx, type(dataset).__name__
        self.iterable = isinstance(dataset, IterableDataset)
        generator = torch.Generator().manual_seed(rng.derive_seed(config.seed, ctx.rank))  # worker seeds; keeps the global RNG untouched
        common = dict(num_workers=config.num_workers, pin_memory=ctx.device.type == "cuda", generator=generator)
        if self.iterable:
            self._source: _ShardedIterable | _EpochBatchSampler = _ShardedIterable(dataset, config.seed, ctx)
            self.loader = DataLoader(self._source, batch_size=config.batch_size, drop_last=True, **common)
        else:
            try:
                size = len(dataset)  # type: ignore[arg-type]
            except TypeError:
                raise ConfigError(f"dataset {type(dataset).__name__}: a map-style dataset needs __len__") from None
            self._source = _EpochBatchSampler(size, config.batch_size, ctx, config.seed, config.shuffle)
            if self._source.batches_per_epoch == 0:
                need = config.batch_size * ctx.world_size
                raise ConfigError(f"dataset {type(dataset).__name__}: {size} items, fewer than one batch (batch_size × ranks = {need})")
            self.loader = DataLoader(
                _SeededItems(dataset, config.seed), batch_sampler=self._source, persistent_workers=config.num_workers > 0, **common
            )
        self.epoch, self.batch = 0, 0
        self._iter: Iterator[Any] | None = None

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state(self, state: dict[str, int]) -> None:
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self._iter = None

    def _open(self) -> None:
        self._source.epoch = self.epoch
        if self.iterable:
            self._iter = iter(self.loader)
            for _ in range(self.batch):  # an iterable can only be replayed, not indexed
                next(self._iter)
        else:
            self._source.start = self.batch  # type: ignore[union-attr]
            self._iter = iter(self.loader)

    def _pull(self) -> Any | None:
        if self._iter is None:
            self._open()
        return next(self._iter, None)  # type: ignore[arg-type]

    def next(self) -> Any:
        """The next batch, rolling over to a new epoch when this one is used up (on all ranks together)."""
        batch = self._pull()
        if any_rank(batch is None, self.ctx) if self.iterable else batch is None:
            self.epoch, self.batch, self._iter = self.epoch + 1, 0, None
            batch = self._pull()
            if any_rank(batch is None, self.ctx) if self.iterable else batch is None:
                raise ConfigError(f"dataset {self.name}: an epoch yields no complete batch on rank {self.ctx.rank}")
        self.batch += 1
        return batch
