"""Drafts from a gateway in front of the services running on their own (registry, polls, counter and drafts, each
over real HTTP on its own PostgreSQL database): the drafts API's commands reach the drafts service, a query answers
the caller's visible rows, the sandbox's problem documents come through whole, and the pages read the service."""

from __future__ import annotations

import time

import httpx

from civitas_gateway.auth import AuthSettings

from .conftest import OPERATOR_TOKEN

SERVICES = ("registry", "polls", "counter", "drafts", "gateway")


def test_drafts_commands_queries_and_pages_through_the_drafts_service(noida_broker, threaded_services, smtp, tmp_path,
                                                                       sign_in, expect_problem):
    auth = AuthSettings(HOME=tmp_path / "gateway", SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1],
                        SMTP_TIMEOUT=30, OPERATOR_TOKEN=OPERATOR_TOKEN)
    urls = threaded_services(noida_broker.settings(), auth, services=SERVICES)
    deadline = time.monotonic() + 30
    while httpx.get(urls["gateway"] + "/ready").status_code != 200 or httpx.get(urls["drafts"] + "/ready").is_error:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with httpx.Client(base_url=urls["gateway"], timeout=30) as http:
        alice, bob = ({"Authorization": f"Bearer {sign_in(http, f'{v}@example.org')}"} for v in ("alice", "bob"))
        made = http.post("/api/drafts/groups", json={"name": "Town hall", "others_weight": "1", "weight": "3"},
                         headers=alice)
        assert made.status_code == 201, made.text
        gid = made.json()["data"]["id"]
        http.post(f"/api/drafts/groups/{gid}/join", json={}, headers=bob).raise_for_status()
        pid = http.post(f"/api/drafts/groups/{gid}/posts", json={"paragraphs": ["Plant trees.", "Many."]},
                        headers=bob).json()["data"]["post"]
        http.put(f"/api/drafts/posts/{pid}/vote", json={"vote": "down", "paragraph": "2"},
                 headers=alice).raise_for_status()
        # what the drafts service holds is what the gateway answers
        assert httpx.get(f"{urls['drafts']}/groups/{gid}/members").json()["members"][1]["voter"] == "bob@example.org"
        answer = http.post("/api/query", json={"sql": "SELECT p.author, pa.position, s.score FROM paragraph_scores s "
                                                      "JOIN posts p ON p.id = s.post_id JOIN post_paragraphs pa "
                                                      "ON pa.post_id = p.id AND pa.paragraph_id = s.paragraph_id "
                                                      "ORDER BY pa.position"}, headers=bob)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == [["bob@example.org", 2, -3.0]]  # the one paragraph voted on
        assert "paragraph_scores" in http.get("/api/query/tables").json()["tables"]
        expect_problem(http.post("/api/query", json={"sql": "SELECT * FROM sqlite_master"}, headers=bob), 403,
                       "query-refused")
        stopped = expect_problem(http.post("/api/query", json={"sql": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                                                                     "SELECT i + 1 FROM n) SELECT count(*) FROM n"},
                                           headers=bob), 400, "query-timeout")
        assert stopped["title"] == "Query stopped at its time limit"
        expect_problem(http.patch(f"/api/drafts/groups/{gid}/members/alice@example.org", json={"weight": "0"},
                                  headers=bob), 403)

        page = http.get(f"/drafts/groups/{gid}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Plant trees." in page.text and 'data-voter="bob@example.org"' in page.text
        post = http.get(f"/drafts/posts/{pid}", headers={"Accept": "text/html"})
        assert post.status_code == 200 and ">-3</span>" in post.text
        missing = http.get("/drafts/groups/nosuchgroup", headers={"Accept": "text/html"})
        assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]

        # the drafts service is one of the owners: its stream is listed where it stands, and readiness waits for it
        streams = {s["stream"]: s for s in http.get("/api/log/streams").json()}
        held = {s["stream"]: s for s in httpx.get(urls["drafts"] + "/streams").json()}
        assert streams["draft"] == held["draft"] and streams["draft"]["seq"] >= 4
        ready = http.get("/ready").json()
        assert ready["drafts"] == "ok" and "deployer" not in ready  # the deployer is not deployed here

        # a post in answer to a hunk, and the subject's groups, read from the service as the proposal page reads them
        from civitas_gateway.drafts_remote import RemoteDraftReads
        from civitas_kernel.service.calls import ServiceClient

        made = http.post("/api/drafts/groups", json={"name": "Discussion of change:1", "subject": "change:1",
                                                     "others_weight": "1", "default_score": "1"}, headers=alice)
        talk = made.json()["data"]["id"]
        anchor = {"file": "pages/app.py", "hunk": "@@ -0,0 +1,2 @@", "revision": "ab" * 32}
        replied = http.post(f"/api/drafts/groups/{talk}/posts", json={"paragraphs": ["Why?"], "anchor": anchor},
                            headers=bob)
        assert replied.status_code == 201, replied.text
        reads = RemoteDraftReads(ServiceClient("drafts", urls["drafts"]))
        assert [(g["id"], g["founder"]) for g in reads.subject_groups(None, "change:1")] == [(talk,
                                                                                               "alice@example.org")]
        listed = reads.anchored("bob@example.org", talk)["posts"]
        assert [(p["anchor"], p["author"], p["shown"]) for p in listed] == [(anchor, "bob@example.org", True)]
