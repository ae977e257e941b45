"""The language of each page: Swedish or English, the person's choice once made.

The choice is, in order: the signed-in user's stored language, the ``cap_language`` cookie
(set by the language form on every page), the language of the person a supplier's link was
sent to, the browser's Accept-Language, CAP_DEFAULT_LANGUAGE.
Messages are English in the code and templates (``_()``, ``{% trans %}``) and Swedish in the
.po files of cap/web/locale/sv/LC_MESSAGES/ (one per group of pages, merged), read at start: no
compiled catalog to keep in step.
The template's gettext takes the language from the template context, never from a shared
environment, so two requests rendered at once in two languages cannot mix.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from babel import Locale, negotiate_locale
from babel.dates import format_date, format_time, format_timedelta
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from cap.domain.model import Language
from cap.web.labels import label
from cap.web.security import CSRF_FIELD

COOKIE = "cap_language"
#: A choice is remembered for a year from the last time it was made.
COOKIE_MAX_AGE = 365 * 24 * 60 * 60
_LOCALE = Path(__file__).parent / "locale"
#: The language the messages are written in: it needs no catalog.
_SOURCE = Language.EN


@cache
def translations(language: Language) -> NullTranslations:
    """The messages of ``language``, from its .po files (read once per process)."""
    if language is _SOURCE:
        return NullTranslations()
    catalog = catalog_of(language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def catalog_of(language: Language) -> Catalog:
    """Every .po file of ``language`` as one catalog. A message may be in two files with the
    same translation; two translations of one message are an error."""
    merged = Catalog(locale=language.value)
    for path in sorted((_LOCALE / language.value / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            part = read_po(po, locale=language.value)
        for message in part:
            if not message.id:
                continue  # the header
            known = merged.get(message.id)
            if known is not None and known.string != message.string:
                raise ValueError(
                    f"{path.name}: {message.id!r} is translated otherwise in another file"
                )
            merged[message.id] = message
    return merged


def accepted(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0: not at all)."""
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((quality, tag))
    # sorted() is stable: tags of equal weight keep the browser's order.
    return [tag for _, tag in sorted(weighted, key=lambda item: -item[0])]


def same_site_path(target: str) -> str | None:
    """``target`` if it is a path on this site, else None: the language form says where to go
    back to, and a form can be forged to say ``https://evil.example`` or ``//evil.example``."""
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 or c == "\\" for c in target):
        return None
    return target


class Languages:
    """How the language of a request is chosen, for one application."""

    def __init__(self, default: Language, *, secure: bool, tz: tzinfo = UTC) -> None:
        self.default = default
        self.secure = secure
        #: The buyer's time zone: instants are shown in it, as the deadlines are counted.
        self.tz = tz

    def of(self, request: Request) -> Language:
        user = getattr(request.state, "user", None)  # set by cap.web.desk.signed_in
        if user is not None and user.language is not None:
            return Language(user.language)
        chosen = request.cookies.get(COOKIE)
        if chosen in set(Language):
            return Language(chosen)
        # A page for someone known without an account (a supplier's link): their language.
        known = getattr(request.state, "language", None)
        if isinstance(known, Language):
            return known
        available = [language.value for language in Language]
        wanted = negotiate_locale(accepted(request.headers.get("accept-language", "")),
                                  available, sep="-")  # fmt: skip
        return Language(wanted) if wanted else self.default

    def gettext(self, request: Request) -> Callable[[str], str]:
        """``_`` for the messages code renders for ``request``."""
        return translations(self.of(request)).gettext

    def _context(self, request: Request) -> dict[str, Any]:
        return {"language": self.of(request), "tz": self.tz}

    def templates(self, directory: Path, **shown: Any) -> Jinja2Templates:
        """The application's templates (autoescaped .html), in each request's language;
        ``shown``: what else every page of the application may show (the buyer's name)."""

        def application(_: Request) -> dict[str, Any]:
            return shown

        return Jinja2Templates(
            env=environment(directory), context_processors=[self._context, application]
        )


@cache
def environment(directory: Path) -> jinja2.Environment:
    """The templates of ``directory``, loaded and compiled once per process whichever
    application renders them (the tests build one per test; each template's source is
    checked for changes at its next use, as by any Jinja environment)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(),  # Jinja2Templates' own choice
    )
    env.globals["csrf_field"] = CSRF_FIELD
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    env.filters["ago"] = _ago
    env.filters["amount"] = _amount
    env.filters["count"] = _count
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    env.filters["label"] = _label
    return env


def _language(context: Context) -> Language:
    language = context.get("language")
    assert isinstance(language, Language), "rendered without Languages' context processor"
    return language


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_language(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_language(context)).ngettext(singular, plural, n)


@pass_context
def _ago(context: Context, seconds: float) -> str:
    """``5 seconds ago``, ``för 5 sekunder sedan``: how long ago, in the page's language."""
    # Babel words a zero duration as the future ("in 0 seconds"): a heartbeat is never that.
    return format_timedelta(timedelta(seconds=-max(seconds, 1)), add_direction=True,
                            locale=_language(context).value)  # fmt: skip


#: Dates and times as read in Sweden and in British English (the buyer's), not the US.
#: The locale each page language writes numbers and dates in (Babel).
FORMAT_LOCALES = {Language.SV: "sv_SE", Language.EN: "en_GB"}


def _locale(context: Context) -> str:
    return FORMAT_LOCALES[_language(context)]


def local_percent(share: float, locale: str, decimals: str) -> str:
    """``share`` (1 is 100 %) in ``locale``'s own percent pattern (``57.1%``, ``57,1 %``),
    its decimals as the Babel pattern ``decimals`` gives them (``0``: one, ``##``: up to two)."""
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return format_percent(share, format=pattern.replace("0", f"0.{decimals}", 1), locale=locale)


@pass_context
def _amount(context: Context, value: Decimal | None) -> str:
    """An amount in the page's language, with its two decimals: ``12 500 000,00`` in
    Swedish, ``12,500,000.00`` in English. None is shown as an empty string."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00", locale=_locale(context))


@pass_context
def _count(context: Context, value: int) -> str:
    """A whole number in the page's language: ``1,234`` in English, ``1 234`` in Swedish."""
    return format_decimal(value, locale=_locale(context))


@pass_context
def _day(context: Context, value: date | None, style: str = "medium") -> str:
    """A date in the page's language: ``7 Apr 2026``, ``7 apr. 2026``; ``weekday`` adds the
    weekday. None is shown as an empty string."""
    if value is None:
        return ""
    return _format_day(value, style, _locale(context))


@lru_cache(maxsize=4096)
def _format_day(value: date, style: str, locale: str) -> str:
    # Babel looks the locale's patterns up on every call: a list page shows a hundred dates.
    if style == "weekday":
        return format_date(value, "EEE d MMM y", locale=locale)
    return format_date(value, style, locale=locale)


@pass_context
def _moment(context: Context, value: datetime | None) -> str:
    """An instant in the buyer's time zone and the page's language: ``7 Apr 2026 10:05``."""
    if value is None:
        return ""
    local = value.astimezone(context.get("tz", UTC))
    locale = _locale(context)
    time = format_time(local, "short", locale=locale)
    return f"{format_date(local, 'medium', locale=locale)} {time}"


@pass_context
def _label(context: Context, value: StrEnum | None) -> str:
    """A state, area, severity, role... as the page's language names it."""
    if value is None:
        return ""
    return translations(_language(context)).gettext(label(value))
