"""The chart renders the sync service's peers (services.sync.peers) as the sync.toml and known-sites.toml it reads at
CIVITAS_HOME, and the sync service's own loader (civitas_sync.config) reads them as the same network: the same
peers, roles, URLs, pinned keys and signed anchors, so the chart and the code cannot drift. A network the sync
service would refuse (a second super-site, a site named twice, a key that is not 64 hex digits, ...) fails
`helm template`, saying what to fix."""

from __future__ import annotations

import base64

import helm_python as helm
import kubernetes_validate
import pytest

from civitas_kernel.anchors import open_anchor
from civitas_kernel.signers import KNOWN_SITES
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.events import trust
from civitas_sync.config import SYNC_FILE, pinned_keys, read_network
from civitas_sync.domain.anchors import DeclaredAnchor
from civitas_sync.domain.peers import Network, Peer, attach
from civitas_sync.serving import signed_at

from .test_chart import CHART, KUBE_VERSION, container, deployments, env, render, volume

HOME = "/var/lib/civitas"
COUNTY, TOWN, HAMLET, PORT = "county.example", "town.example", "hamlet.example", "port.example"
STATE_KEY, HAMLET_KEY, PORT_KEY, VILLAGE_KEY = "1" * 64, "2" * 64, "3" * 64, "4" * 64


@pytest.fixture(scope="module")
def town():
    """A real town: its key, and its signed head of registration after 120 events, to anchor a link at."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        key = SiteKey.load_or_create(Path(folder) / "site-key.pem")
        log = open_log(f"sqlite:///{folder}/log.sqlite", TOWN, key)
        log.append("registration", [trust(f"r{i}@town.example", "x@town.example") for i in range(120)])
        head = log.head("registration")
        checkpoint = signed_at(log, TOWN, "registration", head.seq)
        log.engine.dispose()
        yield key, DeclaredAnchor(TOWN, "registration", head.seq, head.hash, checkpoint)


def peers_of(town) -> list[dict]:
    key, anchor = town
    return [
        {"site": "state.example", "role": "super", "url": "https://state.example", "key": STATE_KEY},
        {"site": TOWN, "role": "sub", "url": "http://sync.town.example:8006", "key": key.public_key.hex(),
         "anchors": [{"origin": TOWN, "stream": "registration", "position": anchor.position,
                      "hash": anchor.hash.hex(), "checkpoint": base64.b64encode(anchor.checkpoint).decode()}]},
        {"site": HAMLET, "role": "sub", "url": "https://hamlet.example/civitas", "key": HAMLET_KEY},
        {"site": PORT, "role": "peripheral", "url": "https://port.example", "key": PORT_KEY},
    ]


def values_of(peers: list[dict], **extra) -> dict:
    values = {"site": COUNTY, "services": {"sync": {"enabled": True, "peers": peers},
                                           "counter": {"origins": [{"site": "village.example", "key": VILLAGE_KEY}]}}}
    values.update(extra)
    return values


def mounted(docs: list[dict], deployment: dict, path: str, tmp_path) -> None:
    """Write the ConfigMap file mounted at `path` where the service reads it: under tmp_path, as its CIVITAS_HOME."""
    mount = next(m for m in container(deployment)["volumeMounts"] if m["mountPath"] == path)
    assert mount["readOnly"] and path == f"{HOME}/{mount['subPath']}"
    name = volume(deployment, path)["configMap"]["name"]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
    (tmp_path / mount["subPath"]).write_text(config["data"][mount["subPath"]])


def test_the_sync_service_reads_the_peers_the_chart_renders_as_the_same_network(town, tmp_path):
    key, anchor = town
    peers = peers_of(town)
    docs = render(values_of(peers), release="county")
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    sync = deployments(docs)["sync"]
    for path in (f"{HOME}/{SYNC_FILE}", f"{HOME}/{KNOWN_SITES}"):
        mounted(docs, sync, path, tmp_path)

    network = read_network(tmp_path, COUNTY)  # as the sync service reads it each round
    expected = Network(COUNTY)
    for p in peers:
        anchors = tuple(DeclaredAnchor(a["origin"], a["stream"], a["position"], bytes.fromhex(a["hash"]),
                                       base64.b64decode(a["checkpoint"])) for a in p.get("anchors", []))
        expected = attach(expected, Peer(p["site"], p["role"], p["url"], bytes.fromhex(p["key"]), anchors))
    assert network == expected
    assert network.super_site.site == "state.example"
    declared = network.peer(TOWN).anchor(TOWN, "registration")
    assert declared == anchor  # the origin's signed head, byte for byte: it still opens under the town's key
    assert open_anchor(declared.checkpoint, TOWN, "registration", key.public_key, seq=declared.position,
                       head_hash=declared.hash).seq == 120
    # every key pinned there: the peers' and the origins the counter lists (relayed to the sync service too)
    assert pinned_keys(tmp_path) == {p["site"]: bytes.fromhex(p["key"]) for p in peers} | {
        "village.example": bytes.fromhex(VILLAGE_KEY)}


def test_the_sync_service_consumes_the_mirrored_peers_the_chart_names_as_its_peers(town, tmp_path):
    """CIVITAS_SYNC_MIRRORED names sites the sync service must hold as sub-sites or sources: with the rendered
    sync.toml its mirror consumers are made as they are at its start, one per mirrored peer, with that peer's key."""
    peers = peers_of(town)
    sources = [{"site": TOWN, "role": "sub", "bootstrapServers": "kafka.town.example:9092"}]
    docs = render(values_of(peers, mirrorMaker={"enabled": True, "sources": sources}), release="county")
    sync = deployments(docs)["sync"]
    mounted(docs, sync, f"{HOME}/{SYNC_FILE}", tmp_path)

    from civitas_sync.mirror_worker import MirrorFollowers, mirrored_origins

    log = open_log(f"sqlite:///{tmp_path / 'log.sqlite'}", COUNTY, SiteKey.load_or_create(tmp_path / "key.pem"))
    made = MirrorFollowers(log, tmp_path, mirrored_origins(env(sync)["CIVITAS_SYNC_MIRRORED"]))._consumers()
    assert set(made) == {TOWN} and made[TOWN].site_keys == {TOWN: town[0].public_key}
    log.engine.dispose()


def test_a_changed_peer_restarts_the_sync_service_and_no_peers_render_no_sync_file(town):
    peers = peers_of(town)
    annotations = lambda values: deployments(render(values))["sync"]["spec"]["template"]["metadata"].get(  # noqa: E731
        "annotations", {})
    before = annotations(values_of(peers))
    moved = [dict(p, url="https://state.example/new") if p["role"] == "super" else p for p in peers]
    after = annotations(values_of(moved))
    assert before["civitas/sync-peers"] != after["civitas/sync-peers"]  # mounted by subPath: not updated in place
    assert before["civitas/known-sites"] == after["civitas/known-sites"]

    bare = render({"services": {"sync": {"enabled": True}}})
    assert f"{HOME}/{SYNC_FILE}" not in {m["mountPath"] for m in container(deployments(bare)["sync"])["volumeMounts"]}
    assert not [d for d in bare if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-sync-peers")]


def test_the_chart_lints_clean_with_peers(town):
    result = helm.lint(str(CHART), values_of(peers_of(town)), strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == [] and not [m for m in result["messages"] if m["severity"] > 1]


def changed(town, index: int, **fields) -> list[dict]:
    peers = [dict(p) for p in peers_of(town)]
    peers[index].update(fields)
    return peers


def anchored(town, **fields) -> list[dict]:
    peers = [dict(p) for p in peers_of(town)]
    peers[1]["anchors"] = [dict(peers[1]["anchors"][0], **fields)]
    return peers


MIRROR_HAMLET = {"enabled": True, "sources": [{"site": HAMLET, "role": "source", "bootstrapServers": "k:9092"}]}


@pytest.mark.parametrize("make, extra, problem", [
    (lambda t: peers_of(t) + [{"site": "other.example", "role": "super", "url": "https://o.example", "key": "5" * 64}],
     {}, "names a second super-site, other.example, besides state.example"),
    (lambda t: changed(t, 2, key="abc"), {}, "hamlet.example needs key, its public key as 64 lower-case hex digits"),
    (lambda t: changed(t, 2, key="g" * 64), {}, "hamlet.example needs key"),
    (lambda t: [{k: v for k, v in p.items() if k != "key"} for p in peers_of(t)], {}, "state.example needs key"),
    (lambda t: peers_of(t) + [dict(peers_of(t)[2], role="peripheral")], {}, "names hamlet.example twice"),
    (lambda t: changed(t, 3, site=COUNTY), {}, "names this site, county.example"),
    (lambda t: changed(t, 3, site="Port/../x"), {}, "is not a site name"),
    (lambda t: changed(t, 3, role="friend"), {}, 'port.example has role "friend"'),
    (lambda t: changed(t, 3, url="ftp://port.example"), {}, "port.example needs url"),
    (lambda t: changed(t, 0, anchors=peers_of(t)[1]["anchors"]), {}, "state.example is a super peer"),
    (lambda t: anchored(t, hash="12"), {}, "the anchor of town.example/registration on town.example needs hash"),
    (lambda t: anchored(t, position=0), {}, "needs position, a whole number from 1"),
    (lambda t: anchored(t, position=1.5), {}, "needs position, a whole number from 1"),
    (lambda t: anchored(t, checkpoint="not base64!"), {}, "needs checkpoint"),
    (lambda t: anchored(t, stream="doubt"), {}, "names a stream this site does not pull over that link"),
    (lambda t: changed(t, 1, anchors=peers_of(t)[1]["anchors"] * 2), {}, "declares the anchor of town.example/regis"),
    (lambda t: peers_of(t), {"mirrorMaker": MIRROR_HAMLET}, "name it in services.sync.peers with role source"),
    (lambda t: changed(t, 2, site="village.example"), {}, "village.example is pinned with two keys"),
])
def test_a_network_the_sync_service_would_refuse_fails_the_render_saying_what_to_fix(town, make, extra, problem):
    with pytest.raises(helm.HelmError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        render(values_of(make(town), **extra))
