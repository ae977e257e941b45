"""`cap link list REF` and `cap link revoke LINK_ID | --finding REF`: a finding's supplier
links as a table or JSON, revoking one or all of them, and one error line for each mistake."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from cap.store.models import Finding
from cap.workflow.links import issue_link
from cap.workflow.records import finding_by_ref
from tests.cli_runner import Cap, workflow_for
from tests.conftest import LI, NOW, make_world

SECRET = "test-only-secret-key-of-forty-characters"


def two_links(cap: Cap) -> tuple[str, list[int]]:
    """A finding with two links, to Li and to another address; its ref and the links' ids."""
    with workflow_for(cap.url) as workflow:
        workflow.settings = workflow.settings.model_copy(update={"secret_key": SecretStr(SECRET)})
        world = make_world(workflow)
        ref = world.finding()
        ids = []
        with workflow.db.write() as session:
            finding: Finding = finding_by_ref(session, ref)
            for address in (LI, "qa@supplier.example"):
                ids.append(issue_link(session, workflow.settings, finding=finding,
                                      address=address, now=NOW))  # fmt: skip
        workflow.open_link(_token(ids[0]), now=NOW + timedelta(hours=2))
    return ref, ids


def _token(link_id: int) -> str:
    from itsdangerous import URLSafeSerializer

    from cap.workflow.links import SALT

    return str(URLSafeSerializer(SECRET, salt=SALT).dumps(link_id))


def test_list_shows_a_findings_links_newest_first(cap: Cap) -> None:
    ref, (li, qa) = two_links(cap)
    lines = cap.ok("link", "list", ref).splitlines()
    assert lines[0].split() == ["ID", "SENT", "TO", "CREATED", "EXPIRES", "REVOKED", "FIRST",
                                "OPENED", "LAST", "OPENED", "USES"]  # fmt: skip
    assert [line.split()[:2] for line in lines[1:]] == [[str(qa), "qa@supplier.example"],
                                                       [str(li), LI]]  # fmt: skip
    assert lines[2].rstrip().endswith(" 1") and lines[1].rstrip().endswith(" 0")
    rows = cap.json("link", "list", ref)
    assert [(r["id"], r["finding_ref"], r["uses"]) for r in rows] == [(qa, ref, 0), (li, ref, 1)]
    assert rows[1]["first_opened_at"] == (NOW + timedelta(hours=2)).isoformat()


def test_revoke_one_or_all_of_a_findings_links(cap: Cap) -> None:
    ref, (li, _) = two_links(cap)
    assert cap.ok("link", "revoke", str(li)) == f"revoked link {li} (sent to {LI} for {ref})\n"
    assert cap.ok("link", "revoke", "--finding", ref) == f"revoked 1 link(s) of {ref}\n"
    assert cap.ok("link", "revoke", "--finding", ref) == f"revoked 0 link(s) of {ref}\n"
    assert all(r["revoked_at"] for r in cap.json("link", "list", ref))


def test_each_mistake_is_one_error_line(cap: Cap) -> None:
    ref, (li, _) = two_links(cap)
    assert cap.fails("link", "revoke", code=2) == (
        "error: link: give a LINK_ID or --finding REF, not both"
    )
    assert cap.fails("link", "revoke", str(li), "--finding", ref, code=2).startswith("error: link:")
    assert cap.fails("link", "revoke", "999", code=4) == (
        "error: link: no link 999 (see `cap link list REF`)"
    )
    assert cap.fails("link", "list", "NC-2026-9999", code=4).startswith(
        "error: finding NC-2026-9999 does not exist"
    )
    assert cap.ok("link", "list", ref).count("\n") == 3


def test_resend_queues_the_current_request_again_with_a_fresh_link(cap: Cap) -> None:
    env = {"CAP_SECRET_KEY": SECRET}
    with workflow_for(cap.url) as workflow:
        ref = make_world(workflow).finding()
    assert "nothing was asked of the supplier" in cap.fails("link", "resend", ref, env=env)
    cap.ok("finding", "notify", ref, env=env)
    [first] = cap.json("link", "list", ref, env=env)
    out = cap.ok("link", "resend", ref, env=env)
    assert out == f"queued cap_requested to {LI} with a fresh link\n"
    fresh, old = cap.json("link", "list", ref, env=env)
    assert old["id"] == first["id"] and fresh["id"] != first["id"]
    with workflow_for(cap.url) as workflow:
        sent = [m for m in workflow.list_outbox() if m.kind == "cap_requested"]
        assert len(sent) == 2 and {m.recipient for m in sent} == {LI}
        assert (
            f"/s/{_token(fresh['id'])}"
            in workflow.preview_email("cap_requested", "en", ref, now=NOW + timedelta(days=1)).text
        )
    assert cap.json("link", "resend", ref, env=env)["queued"][0]["kind"] == "cap_requested"
    assert "does not exist" in cap.fails("link", "resend", "NC-2026-9999", env=env)


def test_show_tells_each_links_use(cap: Cap) -> None:
    ref, (li, qa) = two_links(cap)
    shown = cap.ok("finding", "show", ref).split("links sent to the supplier\n")[1]
    lines = shown.splitlines()[:2]
    assert (
        lines[0].startswith(f"  #{qa} to qa@supplier.example, sent ") and "never opened" in lines[0]
    )
    assert lines[1].startswith(f"  #{li} to {LI}, sent ")
    assert "first opened 2026-03-03 12:00" in lines[1] and "1 use(s)" in lines[1]
    assert [link["uses"] for link in cap.json("finding", "show", ref)["links"]] == [0, 1]
