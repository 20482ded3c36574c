"""Exceptions with messages that tell the learner what to do next (chapters 00-11)."""
from __future__ import annotations


class CourseError(Exception):
    """Base class for course_utils errors."""


class UnknownRoleError(CourseError, KeyError):
    """A notebook asked for a model role that the registry does not know."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ModelUnavailableError(CourseError, RuntimeError):
    """The role has no model in this profile, or its model cannot be loaded here."""


class MissingPackageError(CourseError, ImportError):
    """A package needed for this role is not installed."""


class DataError(CourseError, ValueError):
    """Course data is missing or malformed."""


class SearchInputError(CourseError, ValueError):
    """Bad input to an index or a search (empty corpus/query, wrong dimension, k too large...)."""
