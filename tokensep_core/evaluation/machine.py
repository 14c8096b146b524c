"""What a measured time depends on: the CPU, its cores and vector units, torch and its threads,
the device. Recorded with every evaluation so real-time factors from different runs (a resumed
grid, a stand-alone eval) can be told apart before they are compared."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import torch


def describe_machine(device: torch.device | None = None) -> dict[str, Any]:
    """``{cpu, logical_cores, amx_bf16, avx512, torch, threads, device, gpu}`` of this process."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    cpu = names[0] if names else platform.processor() or "unknown"
    device = device or torch.device("cpu")
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "amx_bf16": "amx_bf16" in cpuinfo,
        "avx512": "avx512f" in cpuinfo,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    }


def machine_line(machine: dict[str, Any]) -> str:
    """One line for a report: ``CPU …, N logical cores, torch …, T threads, device …``."""
    if not machine:
        return "not recorded"
    gpu = f" ({machine['gpu']})" if machine.get("gpu") else ""
    threads = f"{machine['threads']} thread{'s' if machine['threads'] != 1 else ''}"
    return (
        f"{machine['cpu']}, {machine['logical_cores']} logical cores (AMX-bf16: {machine['amx_bf16']}, "
        f"AVX-512: {machine['avx512']}), torch {machine['torch']}, {threads}, device {machine['device']}{gpu}"
    )
