"""The project's own error types.

Every failure a user can cause (a bad value, a bad file, a diverging run)
is raised as a subclass of :class:`StudioError`, with a message that names
the problem and says what to do. The CLI and the GUI catch ``StudioError``
and show its message; anything else is a bug.
"""


class StudioError(Exception):
    """Base class of every error the user can cause and should be told about."""


class ConfigError(StudioError, ValueError):
    """A configuration value is invalid.

    Attributes
    ----------
    field : the dotted config path the problem is about (``model.latent_dim``,
        ``model.hidden[0]``), or ``""`` when it concerns no single field.
    problem : what is wrong with it, e.g. ``"must be an integer from 1 to 512 (got 0)"``.

    ``str(error)`` is ``"<field> <problem>"``, so a message names the field
    on the command line, while the window reads ``field`` to mark it.
    """

    def __init__(self, problem: str, field: str = ""):
        self.field = field
        self.problem = problem
        super().__init__(f"{field} {problem}" if field else problem)

    @property
    def base_field(self) -> str:
        """The field without an index: ``model.hidden[0]`` -> ``model.hidden``."""
        return self.field.split("[", 1)[0]


class DataError(StudioError):
    """A data source could not be loaded; the message names the file and the problem."""


class SessionError(StudioError):
    """A session file cannot be read or written; the message says what is wrong."""
