"""The chart wires the site network's lists: the origins the counter compiles list@SITE for (services.counter.origins)
reach it as CIVITAS_COUNTER_ORIGINS (MirrorMaker 2) or CIVITAS_COUNTER_SYNCED_ORIGINS (the sync service, whose
address it is given), their keys in a known-sites.toml the counter reads as `civitas_counter` does, and the folder
of the origins' signed list rules is one volume the sync service writes and the counter reads."""

from __future__ import annotations

import helm_python as helm
import kubernetes_validate
import pytest

from civitas_kernel.signers import KNOWN_SITES, read_known_sites

from .test_chart import CHART, KUBE_VERSION, container, deployments, env, render, volume

TOWN_KEY, VILLAGE_KEY, CORE_KEY = "1" * 64, "2" * 64, "a" * 64
ORIGINS = [{"site": "town.example", "key": TOWN_KEY, "via": "mirror"},
           {"site": "village.example", "key": VILLAGE_KEY},  # via sync, the default: relayed through the town
           {"site": "hamlet.example", "key": CORE_KEY, "via": "sync"}]
VALUES = {"site": "county.example", "services": {"sync": {"enabled": True}, "counter": {"origins": ORIGINS}},
          "mirrorMaker": {"enabled": True, "sources": [
              {"site": "town.example", "role": "sub", "bootstrapServers": "kafka.town.example:9092"}]}}
HOME = "/var/lib/civitas"


def mounts(deployment: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in container(deployment)["volumeMounts"]}


def test_the_counter_is_told_its_origins_and_how_each_reaches_it_and_where_the_sync_service_is():
    docs = render(VALUES, release="county")
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    found = deployments(docs)
    counter = env(found["counter"])
    assert counter["CIVITAS_COUNTER_ORIGINS"] == "town.example"
    assert counter["CIVITAS_COUNTER_SYNCED_ORIGINS"] == "village.example,hamlet.example"
    assert counter["CIVITAS_SYNC_URL"] == "http://county-sync:8006"
    services = {d["metadata"]["name"]: d["spec"]["ports"][0]["port"] for d in docs if d["kind"] == "Service"}
    assert services["county-sync"] == 8006
    assert env(found["sync"])["CIVITAS_SYNC_MIRRORED"] == "town.example"  # the same peers MM2 carries here
    assert env(found["sync"])["CIVITAS_LOG_URL"] == ("civitas-database", "sync-url")  # its own log, not the pod's disk
    assert env(found["gateway"])["CIVITAS_SYNC_URL"] == "http://county-sync:8006"  # the network page
    assert "--from-literal=sync-url=postgresql://" in (CHART / "values.yaml").read_text()


def test_the_counter_reads_the_origins_keys_from_the_known_sites_file_the_chart_renders(monkeypatch, tmp_path):
    docs = render(VALUES, release="county")
    counter = deployments(docs)["counter"]
    mount = mounts(counter)[f"{HOME}/{KNOWN_SITES}"]
    assert mount["readOnly"] and mount["subPath"] == KNOWN_SITES
    config = next(d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"] == volume(counter, f"{HOME}/{KNOWN_SITES}")["configMap"]["name"])
    (tmp_path / KNOWN_SITES).write_text(config["data"][KNOWN_SITES])
    keys = read_known_sites(tmp_path / KNOWN_SITES)  # as the counter reads it at its start
    assert keys == {o["site"]: bytes.fromhex(o["key"]) for o in ORIGINS}

    from civitas_counter.origins import counted_origins, synced_origins
    from civitas_kernel.service.serve import entry_of

    for key, value in env(counter).items():
        if isinstance(value, str):
            monkeypatch.setenv(key, value)
    settings = entry_of("counter").settings(SERVICE="counter", HOME=tmp_path)
    mirrored = counted_origins(settings.COUNTER_ORIGINS, settings.HOME, settings.SITE)
    assert set(mirrored) == {"town.example"}
    assert set(synced_origins(settings.COUNTER_SYNCED_ORIGINS, settings.SYNC_URL, mirrored, settings.HOME,
                              settings.SITE)) == {"village.example", "hamlet.example"}


def test_the_sync_service_writes_the_rules_folder_the_counter_reads():
    docs = render(VALUES | {"networkRules": {"size": "128Mi", "storageClass": "nfs"}}, release="county")
    found = deployments(docs)
    claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim"
                 and d["metadata"]["name"] == "county-network-rules")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # the two pods may be on different nodes
    assert (claim["spec"]["storageClassName"], claim["spec"]["resources"]["requests"]["storage"]) == ("nfs", "128Mi")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    rules = f"{HOME}/sync/rules"  # civitas_kernel.list_rules.HELD under CIVITAS_HOME, in both pods
    for name, read_only in (("sync", False), ("counter", True)):
        assert volume(found[name], rules)["persistentVolumeClaim"]["claimName"] == "county-network-rules", name
        assert mounts(found[name])[rules].get("readOnly", False) is read_only, name
        assert env(found[name])["CIVITAS_HOME"] == HOME
    for name in ("gateway", "registry", "polls", "deployer", "drafts"):
        assert rules not in mounts(found[name]), name

    from civitas_kernel.list_rules import HELD

    assert f"{HOME}/{HELD}" == rules


def test_without_origins_or_a_sync_service_nothing_of_this_is_rendered():
    plain = render({})
    found = deployments(plain)
    assert "sync" not in found
    assert not {"CIVITAS_COUNTER_ORIGINS", "CIVITAS_COUNTER_SYNCED_ORIGINS"} & set(env(found["counter"]))
    assert env(found["counter"])["CIVITAS_SYNC_URL"] == ""  # no sync service: it reads none
    assert not [d for d in plain if d["metadata"]["name"] in ("civitas-network-rules", "civitas-known-sites")]
    only_sync = deployments(render({"services": {"sync": {"enabled": True}}}))
    assert f"{HOME}/{KNOWN_SITES}" not in mounts(only_sync["counter"])  # no origins: the counter lists its own
    assert f"{HOME}/sync/rules" in mounts(only_sync["counter"])


@pytest.mark.parametrize("origins, extra, problem", [
    ([{"site": "town.example", "key": TOWN_KEY}], {"services": {"sync": {"enabled": False}}},
     "needs services.sync.enabled"),
    ([{"site": "town.example", "key": "abc"}], {}, "town.example needs its public key, 64 lower-case hex digits"),
    ([{"site": "town.example", "key": TOWN_KEY, "via": "kafka"}], {}, 'has via "kafka"'),
    ([{"site": "town.example", "key": TOWN_KEY, "via": "mirror"}], {"mirrorMaker": {"enabled": False}},
     "MirrorMaker 2 copies no topics of it here"),
    ([{"site": "town.example", "key": TOWN_KEY}, {"site": "town.example", "key": TOWN_KEY}], {},
     "names town.example twice"),
    ([{"site": "county.example", "key": TOWN_KEY}], {}, "names this site, county.example"),
    ([{"site": "Town/../x", "key": TOWN_KEY}], {}, "is not a site name"),
])
def test_origins_the_counter_could_not_list_are_refused_saying_what_to_do(origins, extra, problem):
    values = {"site": "county.example", "services": {"sync": {"enabled": True}, "counter": {"origins": origins}}}
    for key, value in extra.items():
        values[key] = {**values.get(key, {}), **value}
    with pytest.raises(helm.HelmError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        render(values)


def test_a_rules_volume_the_sync_service_could_not_write_while_the_counter_reads_is_refused():
    with pytest.raises(helm.HelmError, match="networkRules.accessMode must be ReadWriteMany"):
        render({"services": {"sync": {"enabled": True}}, "networkRules": {"accessMode": "ReadOnlyMany"}})


def test_the_chart_lints_clean_with_the_network_wired():
    result = helm.lint(str(CHART), VALUES, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == [] and not [m for m in result["messages"] if m["severity"] > 1]
