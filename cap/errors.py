"""Errors a user can cause and fix. Edges print their message alone, never a traceback."""

from __future__ import annotations


class CapError(Exception):
    """Base of every error caused by input or state, with a message fit for the user."""

    exit_code = 1

    def __init__(self, message: str, *, see: str | None = None) -> None:
        """``see``: the command that lists what there is, named after the message on the
        command line (``message``); ``plain`` leaves it out, for the desk's pages."""
        self.plain = message
        self.message = f"{message} (see `{see}`)" if see else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidInput(CapError):
    """A value is malformed or missing; the message names the field, file or row."""

    exit_code = 2


class NotFound(CapError):
    """A referenced supplier, contract, finding or message does not exist."""

    exit_code = 4


class AlreadyExists(CapError):
    """A unique key (organisation number, contract reference...) is taken."""

    exit_code = 5


class ActionRefused(CapError):
    """The finding's state or history does not allow the action; nothing was changed."""

    exit_code = 6


class Conflict(CapError):
    """Someone else changed the same finding first; nothing was changed, try again."""

    exit_code = 7
