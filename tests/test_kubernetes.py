"""deploy/kubernetes/: rendered by kustomize, validated offline against the oldest and the
newest Kubernetes versions kubernetes-validate bundles, and checked by checkov.

kustomize is the one `kubectl kustomize` embeds (the `pykustomize` package needs Python
3.14); the tests that render skip with that reason where kubectl is missing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
KUBE = ROOT / "deploy" / "kubernetes"
AGENTS = ("ada", "bob", "cy")


def render(folder: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (its embedded kustomize) is not installed; pykustomize needs "
                    "Python >= 3.14")
    r = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@pytest.fixture(scope="module")
def fleet() -> list[dict]:
    return render(KUBE / "fleet")


@pytest.fixture(scope="module")
def base() -> list[dict]:
    return render(KUBE / "base")


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def versions() -> tuple[str, str]:
    from kubernetes_validate.utils import all_versions

    found = sorted(set(all_versions()), key=lambda v: tuple(map(int, v.split("."))))
    return found[0], found[-1]


@pytest.mark.parametrize("which", ["base", "fleet"])
@pytest.mark.parametrize("edge", ["oldest", "newest"])
def test_every_object_validates_strictly_against_the_oldest_and_newest_kubernetes(
        which, edge, request):
    import kubernetes_validate

    objects = request.getfixturevalue(which)
    version = versions()[0 if edge == "oldest" else 1]
    for o in objects:
        kubernetes_validate.validate(o, version, strict=True)  # raises on any problem
    # and the validation is strict: an unknown field is refused
    sts = json.loads(json.dumps(of_kind(objects, "StatefulSet")[0]))
    sts["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRoot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(sts, version, strict=True)


def test_the_base_is_one_locked_down_agent_with_its_home_and_state_on_claims(base):
    (sts,) = of_kind(base, "StatefulSet")
    assert sts["spec"]["replicas"] == 1
    pod = sts["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert claims == {"home", "state"}
    assert mounts["home"]["mountPath"] == "/home/agent"
    assert mounts["state"]["mountPath"] == "/var/lib/reverie"
    env = {e["name"]: e["value"] for e in c["env"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # the config from the ConfigMap kustomize generated, where REVERIE_CONFIG says
    (cm,) = of_kind(base, "ConfigMap")
    assert volumes["config"]["configMap"]["name"] == cm["metadata"]["name"]
    assert env["REVERIE_CONFIG"] == mounts["config"]["mountPath"] + "/reverie.yaml"
    assert mounts["config"]["readOnly"]
    # the Secret as $CREDENTIALS_DIRECTORY
    assert "secret" in volumes["credentials"]
    assert mounts["credentials"]["mountPath"] == env["CREDENTIALS_DIRECTORY"]
    # probes on /healthz through the named metrics port, which the annotations name too
    (port,) = c["ports"]
    assert port["name"] == "metrics"
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    notes = sts["spec"]["template"]["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert notes["prometheus.io/port"] == str(port["containerPort"])
    listen = yaml.safe_load(cm["data"]["reverie.yaml"])["metrics"]["listen"]
    assert listen.endswith(f":{port['containerPort']}")
    # restricted: non-root (the image's uid), read-only root, no escalation, no
    # capability, seccomp RuntimeDefault
    sc, psc = c["securityContext"], pod["securityContext"]
    image_user = re.search(r"^USER (\d+):(\d+)$", (ROOT / "Containerfile").read_text(),
                           re.M).groups()
    assert (str(psc["runAsUser"]), str(psc["runAsGroup"])) == image_user
    assert psc["runAsNonRoot"] and sc["runAsNonRoot"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert psc["seccompProfile"] == sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False


def test_the_overlay_makes_three_agents_each_with_its_own_config_claims_and_secret(
        fleet, tmp_path):
    sets = of_kind(fleet, "StatefulSet")
    assert sorted(s["metadata"]["name"] for s in sets) == [f"reverie-{a}" for a in AGENTS]
    maps = {m["metadata"]["name"]: m for m in of_kind(fleet, "ConfigMap")}
    for sts in sets:
        agent = sts["metadata"]["labels"]["reverie.example/agent"]
        assert sts["metadata"]["namespace"] == "reverie"
        assert sts["spec"]["serviceName"] == f"reverie-{agent}"
        pod = sts["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["credentials"]["secret"]["secretName"] == f"reverie-credentials-{agent}"
        text = maps[volumes["config"]["configMap"]["name"]]["data"]["reverie.yaml"]
        # each agent's config is a valid reverie config naming that agent
        cfg = tmp_path / f"{agent}.yaml"
        cfg.write_text(text)
        r = run_cli("--config", str(cfg), "check-config")
        assert r.returncode == 0, r.stderr
        assert yaml.safe_load(text)["name"] == agent
        sel = sts["spec"]["selector"]["matchLabels"]
        assert sel["reverie.example/agent"] == agent  # no agent's pods are another's
    (ns,) = of_kind(fleet, "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def _checkov() -> str:
    """checkov in a virtual environment of its own (it pins many packages): $CHECKOV, one
    on PATH, or one this test installs once under the cache folder."""
    if os.environ.get("CHECKOV"):
        return os.environ["CHECKOV"]
    if shutil.which("checkov"):
        return shutil.which("checkov")
    venv = Path(os.environ.get("REVERIE_CHECKOV_VENV", "/tmp/reverie-checkov-venv"))
    exe = venv / "bin" / "checkov"
    if not exe.exists():
        r = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True)
        r = r.returncode == 0 and subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "checkov>=3,<4"],
            capture_output=True, text=True, timeout=900)
        if not r or r.returncode != 0 or not exe.exists():
            pytest.skip(f"checkov could not be installed in {venv}: "
                        f"{(r.stderr if r else 'venv failed')[-300:]}")
    return str(exe)


@pytest.mark.slow
def test_checkov_finds_nothing_that_is_not_fixed_or_skipped_with_a_reason(fleet, tmp_path):
    checkov = _checkov()
    rendered = tmp_path / "fleet.yaml"
    rendered.write_text(yaml.safe_dump_all(fleet))
    # --skip-download: no call to Prisma Cloud; any other attempt goes to a closed loopback port
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": ""}
    r = subprocess.run([checkov, "--framework", "kubernetes", "-f", str(rendered),
                        "--skip-download", "-o", "json"], capture_output=True, text=True,
                       env=env, timeout=600)
    report = json.loads(r.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 100 and report["summary"]["parsing_errors"] == 0
    for c in report["results"]["skipped_checks"]:
        reason = c["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 5, (c["check_id"], reason)
