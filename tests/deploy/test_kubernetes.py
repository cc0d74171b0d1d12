"""The Kubernetes manifests (deploy/kubernetes): every overlay rendered with ``kubectl kustomize``
and every object validated offline against the Kubernetes OpenAPI schemas (``kubernetes-validate``,
strict: an unknown field is an error), then checked against what the runtime and the image do.

``kubectl`` comes with the machine or from Debian's ``kubernetes-client`` (``.ci/run`` installs it
when absent); without it these tests fail in CI and skip elsewhere. Its Kustomize must be v4 or
newer (kubectl 1.21+): Debian bookworm's kubectl 1.20 embeds Kustomize v2, which cannot read a
``patches:`` entry, and the tests say so rather than fail on a parse error.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from naftiko_runtime.cli import build_parser
from naftiko_runtime.cli.environment import environment_options, variable
from naftiko_runtime.spec import load

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir() if p.is_dir())
# The oldest Kubernetes release still in common support, and the newest the validator knows.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
MOUNT = "/etc/naftiko/capabilities"


def kubectl() -> str:
    found, problem = _kubectl()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return found


@functools.cache
def _kubectl() -> tuple[str, str | None]:
    found = shutil.which("kubectl")
    if found is None:
        return "", "kubectl is not installed: .ci/run installs Debian's kubernetes-client"
    result = subprocess.run([found, "version", "--client", "-o", "json"], capture_output=True, text=True)
    kustomize = (
        json.loads(result.stdout or "{}").get("kustomizeVersion", "") if result.returncode == 0 else ""
    )
    major = kustomize.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < 4:
        return (
            "",
            f"{found}'s Kustomize ({kustomize or 'v2 or older'}) is too old: kubectl 1.21 or newer is needed",
        )
    return found, None


def render(directory: Path, *extra: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory), *extra], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(KUBERNETES / "overlays" / request.param)


def one(objects: list[dict[str, Any]], kind: str, name_prefix: str = "") -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name_prefix)]
    assert len(found) == 1, f"{kind} {name_prefix}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def capability_files(objects: list[dict[str, Any]]) -> dict[str, str]:
    return one(objects, "ConfigMap", "naftiko-capabilities")["data"]


def environment(objects: list[dict[str, Any]]) -> dict[str, str]:
    """What the container's environment holds: its ``env`` and the settings ConfigMap."""
    values = dict(one(objects, "ConfigMap", "naftiko-settings")["data"])
    values.update({item["name"]: item["value"] for item in container(objects).get("env", [])})
    return values


def test_the_overlays_are_the_documented_ones() -> None:
    assert OVERLAYS == ["minimal", "production"]


def test_every_object_of_every_overlay_validates_against_the_kubernetes_schemas(overlay) -> None:
    name, objects = overlay
    assert objects, f"{name} renders nothing"
    for version in VERSIONS:
        for item in objects:
            kubernetes_validate.validate(item, version, strict=True)


def test_the_validator_refuses_a_wrong_manifest(overlay) -> None:
    """The check above can fail: a misspelt field and a wrong type are both refused."""
    _, objects = overlay
    deployment = copy.deepcopy(one(objects, "Deployment"))
    deployment["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 30
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)
    deployment = copy.deepcopy(one(objects, "Deployment"))
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_probes_and_ports_match_the_capabilities_served(overlay, tmp_path: Path) -> None:
    _, objects = overlay
    declared: dict[str, int] = {}
    for name, text in capability_files(objects).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        document = load(tmp_path / name)  # every capability in the ConfigMap loads
        for expose in document.capability.exposes:
            declared[expose.type] = expose.port
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert ports == {"rest": declared["rest"], "mcp": declared["mcp"], "control": declared["control"]}
    main = container(objects)
    assert main["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "control"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "control"}
    assert main["startupProbe"]["httpGet"]["port"] == "control"
    annotations = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == declared["control"]
    assert annotations["prometheus.io/path"] == "/metrics"


def test_one_service_per_exposed_port(overlay) -> None:
    _, objects = overlay
    services = [o for o in objects if o["kind"] == "Service"]
    targets = sorted(port["targetPort"] for s in services for port in s["spec"]["ports"])
    assert targets == sorted(port["name"] for port in container(objects)["ports"])
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    for service in services:
        assert service["spec"]["selector"].items() <= labels.items()


def test_a_replica_drains_before_the_kubelet_kills_it(overlay) -> None:
    _, objects = overlay
    env = environment(objects)
    drain, timeout = float(env["NAFTIKO_DRAIN_DELAY"]), float(env["NAFTIKO_SHUTDOWN_TIMEOUT"])
    assert drain > 0
    grace = one(objects, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > drain + timeout
    readiness = container(objects)["readinessProbe"]
    assert readiness["periodSeconds"] * readiness["failureThreshold"] < drain  # seen unready in time
    strategy = one(objects, "Deployment")["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0  # the successor is ready before the old replica drains


def test_every_naftiko_variable_is_a_serve_option(overlay) -> None:
    _, objects = overlay
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    known = {variable(action) for action in environment_options(serve)}
    used = {name for name in environment(objects) if name.startswith("NAFTIKO_")}
    assert used and used <= known, used - known


def test_security_context_and_filesystem(overlay) -> None:
    _, objects = overlay
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    main = container(objects)
    context = main["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    mounts = {mount["mountPath"]: mount for mount in main["volumeMounts"]}
    assert mounts[MOUNT]["readOnly"] is True
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]  # the one writable path (the ready file)
    assert volumes[mounts[MOUNT]["name"]]["configMap"]["name"].startswith("naftiko-capabilities-")
    assert main["args"] == ["serve", MOUNT]
    assert {"secretRef": {"name": "naftiko-binds"}} in main["envFrom"]
    for key in ("requests", "limits"):
        assert {"cpu", "memory"} <= main["resources"][key].keys()


def test_production_scales_on_cpu_within_a_disruption_budget() -> None:
    objects = render(KUBERNETES / "overlays" / "production")
    deployment = one(objects, "Deployment")
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "naftiko"}
    assert hpa["spec"]["minReplicas"] >= 3 > 1
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    pdb = one(objects, "PodDisruptionBudget")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1
    assert not container(objects)["image"].startswith("naftiko-runtime:")  # a registry is named


def test_the_optional_service_monitor_scrapes_the_control_service(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(KUBERNETES / "overlays" / "production", tmp_path)],
                "components": [os.path.relpath(KUBERNETES / "components" / "servicemonitor", tmp_path)],
            }
        )
    )
    objects = render(tmp_path, "--load-restrictor", "LoadRestrictionsNone")
    monitor = one(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    control = one(objects, "Service", "naftiko-control")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= control["metadata"]["labels"].items()
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in control["spec"]["ports"]]


def test_a_changed_capability_rolls_the_pods(tmp_path: Path) -> None:
    """The generated ConfigMap's name carries its content's hash, and the pod template names it."""
    before = one(render(KUBERNETES / "overlays" / "minimal"), "Deployment")
    copy_root = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES, copy_root)
    control = copy_root / "base" / "capabilities" / "control.yaml"
    control.write_text(control.read_text().replace("info: true", "info: false"))
    after = one(render(copy_root / "overlays" / "minimal"), "Deployment")
    assert before["spec"]["template"] != after["spec"]["template"]


def test_the_deployed_seed_is_the_repository_seed() -> None:
    deployed = KUBERNETES / "base" / "capabilities" / "label-studio-runs.yaml"
    assert deployed.read_bytes() == (REPO / "capabilities" / "label-studio-runs.yaml").read_bytes()


@pytest.fixture
def configmap_mount(tmp_path: Path) -> Iterator[Path]:
    """The base's capabilities laid out as the kubelet mounts a ConfigMap: each file a symlink
    into ``..data``, itself a symlink to a hidden timestamped directory holding the files."""
    mount = tmp_path / "capabilities"
    stamped = mount / "..2026_12_05_08_00_00.000000001"
    stamped.mkdir(parents=True)
    for source in sorted((KUBERNETES / "base" / "capabilities").glob("*.yaml")):
        shutil.copy(source, stamped / source.name)
    (mount / "..data").symlink_to(stamped.name)
    for source in stamped.iterdir():
        (mount / source.name).symlink_to(Path("..data") / source.name)
    yield mount


def test_a_configmap_mount_serves_each_capability_once(configmap_mount: Path) -> None:
    from naftiko_runtime.cli.files import expand_paths

    found = expand_paths([str(configmap_mount)])
    assert sorted(path.name for path in found) == ["control.yaml", "label-studio-runs.yaml"]
    assert all(".." not in str(path.relative_to(configmap_mount)) for path in found)
