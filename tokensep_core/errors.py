"""User-facing errors: each one's message is a single line saying what is wrong and where."""


class TokensepError(Exception):
    """Base of every error the CLI reports as one line with a non-zero exit code."""


class ConfigError(TokensepError):
    """A configuration file or a component's parameters are invalid."""


class RegistryError(TokensepError):
    """A component name is unknown, duplicated, or registered with a broken contract."""


class AudioError(TokensepError):
    """An audio file cannot be read or written."""


class CheckpointError(TokensepError):
    """A checkpoint is missing, corrupt, or does not match the configuration."""
