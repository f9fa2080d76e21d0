"""The project's own error types.

Every failure a user can cause (a bad value, a bad file, a diverging run)
is raised as a subclass of :class:`StudioError`, with a message that names
the problem and says what to do. The CLI and the GUI catch ``StudioError``
and show its message; anything else is a bug.
"""


class StudioError(Exception):
    """Base class of every error the user can cause and should be told about."""


class ConfigError(StudioError, ValueError):
    """A configuration value is invalid; the message names the field."""


class DataError(StudioError):
    """A data source could not be loaded; the message names the file and the problem."""


class SessionError(StudioError):
    """A session file cannot be read or written; the message says what is wrong."""


class TrainingError(StudioError):
    """Training cannot continue (for example a non-finite loss)."""
