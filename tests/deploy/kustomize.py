"""A small kustomize renderer for the subset deploy/ uses, so the manifests can be checked without
the kustomize binary (not packaged for pip or Debian here).

Supported, with kustomize's semantics: `resources` (files and directories holding a
kustomization.yaml, rendered recursively), `namespace`, `labels` (pairs, includeSelectors,
includeTemplates), `images` (name, newName, newTag, digest), `replicas`, `secretGenerator`
(envs, files, literals, type) with `generatorOptions.disableNameSuffixHash: true`, and `patches`
given by `path` as strategic-merge patches (maps merge recursively, `null` deletes a key, lists
of named objects such as containers/env/volumes/volumeMounts merge by `name`, other lists are
replaced). Anything else raises `Unsupported`, so a manifest change that needs more of kustomize
fails the test loudly instead of being rendered wrongly.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

KNOWN_KEYS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "secretGenerator",
    "generatorOptions",
    "patches",
}
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
MERGE_BY_NAME = {"containers", "initContainers", "env", "volumes", "volumeMounts", "imagePullSecrets"}


class Unsupported(Exception):
    """The kustomization uses a feature this renderer does not implement."""


def render(directory: Path) -> list[Obj]:
    """The objects `kustomize build directory` would print, in resource order."""
    directory = Path(directory)
    config = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(config) - KNOWN_KEYS
    if unknown:
        raise Unsupported(f"{directory}: kustomization keys not supported: {sorted(unknown)}")

    objects: list[Obj] = []
    for entry in config.get("resources", []):
        path = directory / entry
        if path.is_dir():
            objects.extend(render(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    objects.extend(_generate_secrets(directory, config))
    for patch in config.get("patches", []):
        _apply_patch(directory, patch, objects)
    for replica in config.get("replicas", []):
        _set_replicas(objects, replica["name"], int(replica["count"]))
    for image in config.get("images", []):
        _set_image(objects, image)
    for label in config.get("labels", []):
        _add_labels(objects, label)
    if "namespace" in config:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = config["namespace"]
    _check_unique(objects)
    return objects


def _generate_secrets(directory: Path, config: Obj) -> list[Obj]:
    generators = config.get("secretGenerator", [])
    if generators and not config.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise Unsupported("secretGenerator without disableNameSuffixHash needs name references (not implemented)")
    secrets = []
    for generator in generators:
        data: dict[str, str] = {}
        for env_file in generator.get("envs", []):
            for line in (directory / env_file).read_text().splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if "=" not in line:
                    raise ValueError(f"{directory / env_file}: not KEY=VALUE: {line!r}")
                key, value = line.split("=", 1)
                data[key.strip()] = value
        for literal in generator.get("literals", []):
            key, value = literal.split("=", 1)
            data[key] = value
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        for file_entry in generator.get("files", []):
            key, _, source = file_entry.partition("=")
            path = directory / (source or key)
            encoded[Path(key).name if not source else key] = base64.b64encode(path.read_bytes()).decode()
        secrets.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": generator["name"]},
                "type": generator.get("type", "Opaque"),
                "data": encoded,
            }
        )
    return secrets


def _find(objects: list[Obj], kind: str, name: str) -> Obj:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise KeyError(f"no {kind}/{name} to patch")


def _apply_patch(directory: Path, patch: Obj, objects: list[Obj]) -> None:
    if set(patch) != {"path"}:
        raise Unsupported(f"only `patches: - path: FILE` (strategic merge) is supported, not {patch}")
    for doc in yaml.safe_load_all((directory / patch["path"]).read_text()):
        target = _find(objects, doc["kind"], doc["metadata"]["name"])
        merged = strategic_merge(target, doc)
        target.clear()
        target.update(merged)


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """Kubernetes strategic-merge of `patch` into `base` (the subset described in the module doc)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        result = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            elif key in result:
                result[key] = strategic_merge(result[key], value, key)
            else:
                result[key] = copy.deepcopy(value)
        return result
    if isinstance(base, list) and isinstance(patch, list) and field in MERGE_BY_NAME:
        result = copy.deepcopy(base)
        for item in patch:
            index = next((i for i, old in enumerate(result) if old.get("name") == item.get("name")), None)
            if index is None:
                result.append(copy.deepcopy(item))
            else:
                result[index] = strategic_merge(result[index], item, field)
        return result
    return copy.deepcopy(patch)


def _pod_specs(obj: Obj) -> list[Obj]:
    if obj["kind"] in WORKLOADS:
        return [obj["spec"]["template"]["spec"]]
    if obj["kind"] == "CronJob":
        return [obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
    if obj["kind"] == "Pod":
        return [obj["spec"]]
    return []


def _set_replicas(objects: list[Obj], name: str, count: int) -> None:
    matches = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet", "ReplicaSet"}]
    matches = [o for o in matches if o["metadata"]["name"] == name]
    if not matches:
        raise KeyError(f"replicas: no workload named {name}")
    for obj in matches:
        obj["spec"]["replicas"] = count


def _split_image(image: str) -> tuple[str, str]:
    """("repo/name", ":tag" or "@digest" or "") — a registry port's colon is not a tag."""
    if "@" in image:
        name, digest = image.split("@", 1)
        return name, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon:]
    return image, ""


def _set_image(objects: list[Obj], rule: Obj) -> None:
    unknown = set(rule) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise Unsupported(f"images keys not supported: {sorted(unknown)}")
    for obj in objects:
        for spec in _pod_specs(obj):
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                name, suffix = _split_image(container["image"])
                if name != rule["name"]:
                    continue
                if "digest" in rule:
                    suffix = "@" + rule["digest"]
                elif "newTag" in rule:
                    suffix = ":" + str(rule["newTag"])
                container["image"] = rule.get("newName", name) + suffix


def _add_labels(objects: list[Obj], rule: Obj) -> None:
    unknown = set(rule) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown or rule.get("includeSelectors"):
        raise Unsupported(f"labels: only pairs/includeTemplates without selectors are supported, not {rule}")
    pairs = rule["pairs"]
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if not rule.get("includeTemplates"):
            continue
        if obj["kind"] in WORKLOADS:
            obj["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            for claim in obj["spec"].get("volumeClaimTemplates", []):
                claim.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _check_unique(objects: list[Obj]) -> None:
    seen = set()
    for obj in objects:
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key in seen:
            raise ValueError(f"duplicate object {key}")
        seen.add(key)
