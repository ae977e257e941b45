"""The lists of suppliers and of contracts in Swedish (they share their page,
directory_list.html; each gives its own words): heading, caption, button, search label,
count and empty search (both databases)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import ANNA, World
from tests.web.conftest import Clock
from tests.web.desk_client import Desk


@pytest.mark.parametrize(
    ("path", "words", "none"),
    [
        ("/suppliers", ["<h1>Leverantörer</h1>", "<caption>Leverantörer</caption>",
                        'href="/suppliers/new">Ny leverantör</a>', "1 leverantör</p>"],
         "<p>Ingen leverantör matchar sökningen.</p>"),
        ("/contracts", ["<h1>Avtal</h1>", "<caption>Avtal</caption>",
                        'href="/contracts/new">Nytt avtal</a>', "1 avtal</p>"],
         "<p>Inget avtal matchar sökningen.</p>"),
    ],
)  # fmt: skip
def test_a_directory_list_in_swedish(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock, path: str,
    words: list[str], none: str,
) -> None:  # fmt: skip
    anna = signed_in(ANNA)
    anna.post("/language", {"csrftoken": anna.token(path), "language": "sv", "next": path})
    page = anna.get(path).text
    for word in words:
        assert word in page, word
    assert none in anna.get(f"{path}?q=zzzz").text
