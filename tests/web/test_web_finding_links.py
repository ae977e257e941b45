"""Link telemetry on the desk's finding page (both databases): each link emailed to the
supplier with when it was sent, first opened and last used, how often, and until when it
opens (or when it was revoked)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.conftest import ANNA, LI, NOW, World
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.supplier_mail import emailed_path, notified


def links_table(page: str) -> str:
    return page.split("Links sent to the supplier</h2>")[1].split("</table>")[0]


def test_the_finding_page_shows_each_link_and_its_use(
    linked_world: World, signed_in: Callable[[str], Desk], supplier: Desk, clock: Clock
) -> None:
    ref = notified(linked_world)
    anna = signed_in(ANNA)
    table = links_table(anna.get(f"/findings/{ref}").text)
    assert LI in table and "never" in table
    assert "<td>3 Mar 2026 10:00</td>" in table  # sent at NOW, shown in Stockholm time
    clock.now = NOW + timedelta(days=2)
    supplier.get(emailed_path(linked_world))
    clock.now = NOW + timedelta(days=3)
    supplier.get(emailed_path(linked_world))
    table = links_table(anna.get(f"/findings/{ref}").text)
    assert "never" not in table
    assert "<td>5 Mar 2026 10:00</td>" in table and "<td>6 Mar 2026 10:00</td>" in table
    assert '<td class="number">2</td>' in table
    linked_world.workflow.revoke_links(ref, now=NOW + timedelta(days=3))
    assert "revoked 6 Mar 2026 10:00" in links_table(anna.get(f"/findings/{ref}").text)
