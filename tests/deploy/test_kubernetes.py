"""The Kubernetes manifests: render base + each overlay (tests/deploy/kustomize.py) and validate every
object against the Kubernetes OpenAPI schemas (kubernetes-validate, offline), then check that the
pieces fit: selectors, Service ports, Secret and volume references, probes, GPU limits, the HPA."""

from __future__ import annotations

import shutil
from pathlib import Path

import kubernetes_validate
import pytest

from tests.deploy.kustomize import Unsupported, render, strategic_merge
from tests.helpers import REPO

KUBERNETES_VERSIONS = ["1.30", kubernetes_validate.latest_version()]
OVERLAYS = ["cpu", "gpu"]


@pytest.fixture(scope="module")
def deploy_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/ with the gitignored inputs a user creates before applying (token, TLS files)."""
    root = tmp_path_factory.mktemp("k8s") / "deploy"
    shutil.copytree(REPO / "deploy", root)
    (root / "base" / "auth.env").write_text("token=s3cret-test-token\n")
    certs = root / "overlays" / "gpu" / "certs"
    for name in ["tls.crt", "tls.key", "ca.crt"]:
        # Content is opaque to the schema check; real files come from the openssl recipe in docs/deploy.md.
        (certs / name).write_text(f"-----BEGIN TEST {name}-----\n-----END TEST {name}-----\n")
    return root


@pytest.fixture(scope="module")
def rendered(deploy_tree: Path) -> dict[str, list[dict]]:
    return {overlay: render(deploy_tree / "overlays" / overlay) for overlay in OVERLAYS}


def one(objects: list[dict], kind: str, name: str) -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def container(objects: list[dict], deployment: str) -> dict:
    return one(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_validates_against_the_kubernetes_schema(
    rendered: dict[str, list[dict]], overlay: str, version: str
) -> None:
    objects = rendered[overlay]
    assert len(objects) >= 12
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_schema_check_rejects_broken_objects(rendered: dict[str, list[dict]]) -> None:
    """The validation above is real: a wrong type or an unknown field fails it."""
    deployment = one(rendered["cpu"], "Deployment", "inference")
    bad_type = strategic_merge(deployment, {"spec": {"replicas": "two"}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad_type, KUBERNETES_VERSIONS[-1], strict=True)
    unknown_field = strategic_merge(deployment, {"spec": {"replica": 2}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown_field, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pieces_fit(rendered: dict[str, list[dict]], overlay: str) -> None:
    objects = rendered[overlay]
    workloads = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}]
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    claims = {o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"}
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "tensorkart", obj["metadata"]["name"]
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "tensorkart"

    for workload in workloads:
        name = workload["metadata"]["name"]
        template = workload["spec"]["template"]
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selector.items() <= template["metadata"]["labels"].items(), f"{name}: selector misses its pods"
        pod = template["spec"]
        for volume in pod.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, name
        for item in pod["containers"]:
            for env in item.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["data"], f"{name}: {ref}"
            if item["name"] != "redis":
                assert item["image"].startswith("tensorkart/") and ":" in item["image"], item["image"]
                assert "readinessProbe" in item and "livenessProbe" in item, name
                mounts = {m["name"]: m["mountPath"] for m in item["volumeMounts"]}
                assert mounts.get("data") == "/data", f"{name} must mount the shared volume at /data"

    for service in (o for o in objects if o["kind"] == "Service"):
        pods = [
            w
            for w in workloads
            if service["spec"]["selector"].items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert pods, f"Service {service['metadata']['name']} selects no workload"
        port_names = {p["name"] for c in pods[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, f"{service['metadata']['name']}: {port['targetPort']}"

    data = one(objects, "PersistentVolumeClaim", "tensorkart-data")
    assert data["spec"]["accessModes"] == ["ReadWriteMany"]
    redis = one(objects, "StatefulSet", "redis")["spec"]["template"]["spec"]["containers"][0]
    assert "--appendonly" in redis["args"] and redis["args"][redis["args"].index("--appendonly") + 1] == "yes"

    hpa = one(objects, "HorizontalPodAutoscaler", "inference")
    target = hpa["spec"]["scaleTargetRef"]
    one(objects, target["kind"], target["name"])
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert container(objects, "inference")["resources"]["requests"]["cpu"], "HPA on CPU needs a CPU request"

    assert one(objects, "Deployment", "trainer-worker")["spec"]["replicas"] == 2
    assert container(objects, "trainer-worker")["args"] == ["python", "-m", "tensorkart_trainer.worker"]
    assert container(objects, "trainer-api")["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_cpu_overlay_uses_native_grpc_probes_and_no_gpu(rendered: dict[str, list[dict]]) -> None:
    objects = rendered["cpu"]
    recorder = container(objects, "recorder")
    assert recorder["readinessProbe"]["grpc"] == recorder["livenessProbe"]["grpc"] == {"port": 50051}
    # inference: liveness (and startup) on the server-wide name "", readiness on the service's own
    # name, which is NOT_SERVING until a model is loaded and warmed up
    inference = container(objects, "inference")
    assert inference["livenessProbe"]["grpc"] == inference["startupProbe"]["grpc"] == {"port": 50052}
    assert inference["readinessProbe"]["grpc"] == {"port": 50052, "service": "tensorkart.v1.Inference"}
    for workload in (o for o in objects if o["kind"] == "Deployment"):
        for item in workload["spec"]["template"]["spec"]["containers"]:
            assert "nvidia.com/gpu" not in item.get("resources", {}).get("limits", {})
    assert container(objects, "inference")["image"] == "tensorkart/inference:0.1.0"


def test_gpu_overlay_puts_inference_and_workers_on_gpus_with_tls(rendered: dict[str, list[dict]]) -> None:
    objects = rendered["gpu"]
    inference = container(objects, "inference")
    assert inference["image"] == "tensorkart/inference-gpu:0.1.0"
    assert inference["resources"]["limits"]["nvidia.com/gpu"] == 1
    env = {e["name"]: e.get("value") for e in inference["env"]}
    assert env["INFERENCE_TLS_CERT"] == "/certs/tls.crt" and env["INFERENCE_TLS_KEY"] == "/certs/tls.key"
    assert env["INFERENCE_BACKEND"] == "tensorflow"
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"]:
        # kubelet gRPC probes cannot do TLS: the patch must replace them, not add a second handler.
        assert "grpc" not in inference[probe], probe
        assert inference[probe]["exec"]["command"][:3] == ["python", "-m", "tensorkart_core.healthcheck"]
        asks_readiness = inference[probe]["exec"]["command"][-2:] == ["--service", "tensorkart.v1.Inference"]
        assert asks_readiness == (probe == "readinessProbe"), probe
    assert one(objects, "Secret", "tensorkart-inference-tls")["type"] == "kubernetes.io/tls"
    assert one(objects, "Service", "inference-public")["spec"]["type"] == "LoadBalancer"
    worker = container(objects, "trainer-worker")
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert worker["image"] == "tensorkart/trainer-gpu:0.1.0"
    # The API stays on the CPU image; the patch kept the base's env and mounts.
    assert container(objects, "trainer-api")["image"] == "tensorkart/trainer:0.1.0"
    assert {e["name"] for e in worker["env"]} >= {"TENSORKART_DATA", "REDIS_URL", "TENSORKART_TOKEN"}


def test_missing_user_secret_inputs_fail_with_the_file_named(deploy_tree: Path, tmp_path: Path) -> None:
    bare = tmp_path / "deploy"
    shutil.copytree(deploy_tree, bare)
    (bare / "base" / "auth.env").unlink()
    with pytest.raises(FileNotFoundError, match=r"auth\.env"):
        render(bare / "overlays" / "cpu")


def test_renderer_strategic_merge_and_refusals(tmp_path: Path) -> None:
    base = {"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "K", "value": "1"}]}, {"name": "b"}]}}
    patch = {"spec": {"containers": [{"name": "a", "env": [{"name": "L", "value": "2"}], "image": None}]}}
    merged = strategic_merge(base, patch)
    assert merged["spec"]["containers"][0] == {
        "name": "a",
        "env": [{"name": "K", "value": "1"}, {"name": "L", "value": "2"}],
    }
    assert merged["spec"]["containers"][1] == {"name": "b"}
    assert strategic_merge({"args": [1, 2]}, {"args": [3]}) == {"args": [3]}
    (tmp_path / "kustomization.yaml").write_text("resources: []\nnameSuffix: -x\n")
    with pytest.raises(Unsupported, match="nameSuffix"):
        render(tmp_path)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_edges_spread_over_inference_pods_and_the_hpa_scales_on_open_streams(
    rendered: dict[str, list[dict]], overlay: str
) -> None:
    objects = rendered[overlay]
    # a headless Service: DNS names every ready pod, for dns:/// + round_robin clients
    pods = one(objects, "Service", "inference-pods")
    assert pods["spec"]["clusterIP"] == "None"
    assert pods["spec"]["selector"] == one(objects, "Service", "inference")["spec"]["selector"]
    env = {e["name"]: e.get("value") for e in container(objects, "inference")["env"]}
    cap = int(env["INFERENCE_MAX_STREAMS"])
    assert float(env["INFERENCE_MAX_CONNECTION_AGE_S"]) > 0  # edges re-resolve: new pods get streams
    metrics = one(objects, "HorizontalPodAutoscaler", "inference")["spec"]["metrics"]
    streams = [m for m in metrics if m["type"] == "Pods"]
    assert len(streams) == 1 and streams[0]["pods"]["metric"]["name"] == "tensorkart_inference_open_streams"
    assert 0 < int(streams[0]["pods"]["target"]["averageValue"]) < cap  # scale out before pods refuse streams
