"""Drafts through the gateway's existing voter shell over HTTP (POST /api/shell) on the embedded site, served over real
HTTP: each line runs as the signed-in voter, and mistakes are problems."""

from __future__ import annotations

import httpx


def test_signed_in_voters_draft_through_the_shell_over_http(served, sign_in, expect_problem):
    _, base = served
    with httpx.Client(base_url=base, timeout=30) as client:
        alice = {"Authorization": f"Bearer {sign_in(client, 'alice@example.org')}"}
        bob = {"Authorization": f"Bearer {sign_in(client, 'bob@example.org')}"}

        def shell(headers: dict, line: str) -> httpx.Response:
            return client.post("/api/shell", json={"line": line}, headers=headers)

        made = shell(alice, "drafts group create 'Town hall' --others-weight 1 --weight 3")
        assert made.status_code == 200, made.text
        gid = made.json()["data"]["id"]
        assert shell(bob, f"drafts group join {gid[:8]}").json()["data"]["members"] == 2
        pid = shell(bob, f"drafts post {gid[:8]} 'Plant trees.'").json()["data"]["post"]
        assert shell(alice, f"drafts vote down {pid[:8]}").status_code == 200  # bob's 1 - alice's 3
        answer = shell(bob, "drafts query 'SELECT author, score, shown FROM posts JOIN scores ON post_id = id'")
        assert answer.json()["data"]["rows"] == [["bob@example.org", -2.0, 0]]
        # bob (1) cannot lower alice (3): refused whole, as a problem
        expect_problem(shell(bob, f"drafts group set-weight {gid[:8]} alice 0"), 403)
        expect_problem(shell(bob, "drafts query 'SELECT * FROM sqlite_master'"), 403)
        members = shell(bob, f"drafts group members {gid[:8]}").json()["data"]["members"]
        assert [(m["voter"], m["weight"]) for m in members] == [("alice@example.org", 3), ("bob@example.org", 1)]
