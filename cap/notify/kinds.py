"""The kinds of email cap sends and what rendering one gives, known without loading Jinja2."""

from __future__ import annotations

from dataclasses import dataclass

from cap.domain.model import EMAIL_KINDS

#: Every kind of email, in the order of the lifecycle (named by the rules, so defined with the
#: domain's vocabulary).
KINDS = EMAIL_KINDS


@dataclass(frozen=True)
class RenderedEmail:
    """One email ready to be sent.

    ``subject`` is a single line: every run of CR, LF, other control characters and whitespace
    is collapsed to one space, the ends are stripped, and it is at most
    :data:`cap.notify.render.SUBJECT_MAX_LENGTH` characters (cut with "…"), so it is safe to
    put in a header.
    ``text`` ends with exactly one newline and has no trailing spaces; ``html`` is a complete
    document with inline styles only.
    """

    subject: str
    text: str
    html: str
