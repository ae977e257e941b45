"""A desk user's calendar feed: /account/calendar makes its secret URL (shown once), shows its
prefix and last use, and revokes it; /calendar/{token}.ics is what a calendar subscribed to
that URL fetches, without signing in (cap.workflow.calendars).

The token is the only key to the feed: a token that was never a feed's counts as a bad
supplier link from the client's address (cap.workflow.links), so guessing feeds is throttled
as guessing links is, and a throttled address gets 429 for both. A revoked feed is not counted:
a calendar still subscribed to it asks again every few hours, and that is no guess.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from cap.errors import NotFound
from cap.web.site import PRIVATE, Site, client_address, see_other
from cap.workflow import UserView
from cap.workflow.calendars import IssuedFeed

#: The session key of the notice a form leaves for the page it sends the user to.
_NOTICE = "calendar_notice"
#: The feed: never kept by a proxy, never indexed (the token is in its path).
_FEED_HEADERS = {**PRIVATE, "x-robots-tag": "noindex, nofollow"}
ICAL_TYPE = "text/calendar; charset=utf-8"


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


def routes(site: Site, router: APIRouter) -> None:
    workflow = site.workflow

    def page(
        request: Request,
        me: UserView,
        *,
        issued: IssuedFeed | None = None,
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        notice = request.session.pop(_NOTICE, None)
        url = None
        if issued is not None:
            base = site.settings.base_url.rstrip("/") or str(request.base_url).rstrip("/")
            url = base + feed_path(issued.token)
        return site.render(request, "account_calendar.html", {
            "me": me, "feed": issued.view if issued else workflow.feed_of(me.email), "url": url,
            "errors": errors or {}, "notice": notice if isinstance(notice, str) else None,
        }, status_code=status_code)  # fmt: skip

    @router.get("/account/calendar", response_class=HTMLResponse)
    def calendar_page(request: Request) -> Response:
        return page(request, site.user(request))

    @router.post("/account/calendar/new", response_class=HTMLResponse)
    def new_feed(request: Request) -> Response:
        me = site.user(request)  # every role: their own feed
        # The answer to the form shows the URL, this once: a redirect would have to carry it
        # in the session cookie, which is signed, not encrypted.
        issued = workflow.create_feed(me.email, now=site.now())
        return page(request, me, issued=issued, status_code=201)

    @router.post("/account/calendar/revoke", response_class=HTMLResponse)
    def revoke_feed(request: Request) -> Response:
        me = site.user(request)
        _ = site.gettext(request)
        try:
            workflow.revoke_feed(me.email, now=site.now())
        except NotFound:
            errors = {"revoke": _("you have no calendar feed to revoke")}
            return page(request, me, errors=errors, status_code=409)
        request.session[_NOTICE] = _(
            "Your calendar feed is revoked: its URL no longer gives your deadlines."
        )
        return see_other("/account/calendar")

    @router.get("/calendar/{token}.ics")
    def feed(request: Request, token: str) -> Response:
        now = site.now()
        address = client_address(request)
        wait = workflow.link_wait(address, now=now)
        if wait is not None:
            return PlainTextResponse(
                "Too many wrong links from your address; try again later.\n", status_code=429,
                headers={**_FEED_HEADERS, "retry-after": str(wait * 60)},
            )  # fmt: skip
        calendar = workflow.feed_calendar(token, now=now)
        if calendar is None:
            if not workflow.feed_known(token):
                workflow.record_bad_link(address, now=now)
            return PlainTextResponse("No such calendar feed.\n", status_code=404,
                                     headers=_FEED_HEADERS)  # fmt: skip
        return Response(calendar.ical, media_type=ICAL_TYPE, headers=_FEED_HEADERS)
