"""``tokensep separate -n htdemucs``: the htdemucs teacher as a named model, its local weights
given by the environment variable ``TOKENSEP_HTDEMUCS_CHECKPOINT`` (nothing is downloaded).

The variable names a weights file (``.safetensors``, or a torch pickle of tensors) for the
default architecture, or a ``.json`` file of ``htdemucs`` separator params (as ``tokensep
pseudolabel --params`` takes) with a ``checkpoint`` relative to the JSON file's folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tokensep_core.config import format_validation_error
from tokensep_core.errors import ConfigError
from tokensep_core.separation.models import NamedModel

if TYPE_CHECKING:
    from tokensep_core.interfaces import Separator

HTDEMUCS_ENV = "TOKENSEP_HTDEMUCS_CHECKPOINT"


def htdemucs_params() -> dict[str, Any]:
    """The htdemucs separator params ``TOKENSEP_HTDEMUCS_CHECKPOINT`` gives; one-line ConfigError
    when it is unset, names no file, or holds params without a checkpoint."""
    value = os.environ.get(HTDEMUCS_ENV, "").strip()
    if not value:
        raise ConfigError(
            f"model 'htdemucs': set {HTDEMUCS_ENV} to a local HTDemucs weights file (.safetensors, .th, .pt) "
            "or a JSON file of htdemucs separator params"
        )
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{HTDEMUCS_ENV}={value}: no such file")
    if path.suffix.lower() != ".json":
        return {"checkpoint": str(path)}
    try:
        params = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{HTDEMUCS_ENV}={value}: not a readable JSON file ({err})") from None
    if not isinstance(params, dict) or not params.get("checkpoint"):
        raise ConfigError(f"{HTDEMUCS_ENV}={value}: expected a JSON object of htdemucs params with a 'checkpoint'")
    return {**params, "checkpoint": str(path.parent / Path(params["checkpoint"]).expanduser())}


def build_htdemucs(device: str) -> Separator:
    """The htdemucs separator with the weights ``TOKENSEP_HTDEMUCS_CHECKPOINT`` names, on ``device``."""
    from tokensep_teachers.htdemucs import HTDemucsConfig, HTDemucsSeparator

    try:
        config = HTDemucsConfig.model_validate({**htdemucs_params(), "device": device})
    except ValidationError as err:
        raise ConfigError(f"{HTDEMUCS_ENV}: separator 'htdemucs': {format_validation_error(err)}") from None
    return HTDemucsSeparator(config)


HTDEMUCS_MODEL = NamedModel("htdemucs", f"HTDemucs (tokensep-teachers), local weights from ${HTDEMUCS_ENV}", build=build_htdemucs)
