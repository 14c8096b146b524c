"""Configuration: component configs, ``{name, params}`` specs and experiment files (YAML/TOML/JSON)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokensep_core.errors import ConfigError


class ComponentConfig(BaseModel):
    """Base of every component's ``Config``: unknown fields are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ComponentSpec(BaseModel):
    """A component chosen by name in an experiment config: ``{name: ..., params: {...}}``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


ModelT = TypeVar("ModelT", bound=BaseModel)


def format_validation_error(err: ValidationError) -> str:
    """One line: the first offending field and why, plus how many more errors there are."""
    errors = err.errors()
    first = errors[0]
    field = ".".join(str(p) for p in first["loc"]) or "(root)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"field '{field}': {message}{more}"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a YAML, TOML or JSON file (by extension) into a mapping."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file ({err.strerror or err})") from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(f"{path}: unknown config format {suffix!r} (use .yaml, .toml or .json)")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        detail = str(err).splitlines()[0]
        raise ConfigError(f"{path}: not valid {suffix.lstrip('.').upper()}: {detail}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(data).__name__}")
    return data


def validate_model(model_cls: type[ModelT], data: dict[str, Any], source: str = "") -> ModelT:
    """``model_cls.model_validate(data)`` with a one-line error naming ``source`` and the field."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as err:
        where = f"{source}: " if source else ""
        raise ConfigError(f"{where}{format_validation_error(err)}") from None


def load_config(model_cls: type[ModelT], path: str | Path) -> ModelT:
    """Read and validate an experiment config file."""
    return validate_model(model_cls, read_config_file(path), str(path))
