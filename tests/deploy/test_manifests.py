"""Offline checks of deploy/: no cluster and no Docker engine needed.

* every Kubernetes document in deploy/k8s validates (strict) against the API schemas that kubernetes-validate
  ships;
* the manifests keep their promises: probes, resources and a locked-down security context on every
  container, the documented commands, Secrets only by reference, the Ingress routes exactly the public entries
  (checked with a small model of ingress-nginx's path matching), and the NetworkPolicies admit exactly the
  intended callers;
* the Dockerfiles, statically: pinned bases, every COPY source exists and is in the build context, non-root
  user, the documented commands, and the Rasa image holds every module Rasa loads.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKER = ROOT / "deploy" / "docker"
README = ROOT / "deploy" / "README.md"

# The oldest Kubernetes minor the manifests are written for, and the newest kubernetes-validate 1.37 ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
NAMESPACE = "bo-hessen"
SECRET = "bo-hessen-secrets"
CONFIGMAP = "bo-hessen-config"
APP_IMAGE = "registry.example.org/bo-hessen/app"
RASA_IMAGE = "registry.example.org/bo-hessen/rasa"
UID = 10001
CHAT = "chat.example.org"
CONSOLE = "console.example.org"
INGRESS_CONTROLLER = "ingress-controller"

COMMANDS: dict[str, list[str] | None] = {
    "rasa": None,  # the image's entrypoint (deploy/docker/rasa-entrypoint.sh)
    "actions": ["python", "-m", "actions.server"],
    "console": ["python", "-m", "channels.console"],
    "webchat": ["python", "-m", "channels.webchat"],
    "telegram": ["python", "-m", "channels.telegram"],
    "migrate": ["sh", "-c", "python -m knowledge_base.cli migrate && python -m knowledge_base.cli load"],
}
PORTS = {"rasa": 5005, "actions": 5055, "console": 8000, "webchat": 8080, "telegram": 8081}
HEALTH = {"rasa": "/", "actions": "/health", "console": "/healthz", "webchat": "/healthz",
          "telegram": "/healthz"}
FIXED_ENV = {
    "console": {"CONSOLE_HOST": "0.0.0.0", "CONSOLE_PORT": "8000", "CONSOLE_SECURE_COOKIES": "1",
                "CONSOLE_AUTO_SETUP": "0"},
    "webchat": {"WEBCHAT_HOST": "0.0.0.0", "WEBCHAT_PORT": "8080", "WEBCHAT_RASA_URL": "/rasa"},
    "telegram": {"TELEGRAM_HOST": "0.0.0.0", "TELEGRAM_PORT": "8081", "TELEGRAM_MODE": "webhook"},
}
REQUIRED_ENV = {
    "rasa": {"TRACKER_DB_HOST", "TRACKER_DB_PORT", "TRACKER_DB_NAME", "TRACKER_DB_USER",
             "TRACKER_DB_PASSWORD", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "ACTION_SERVER_URL",
             "CONSOLE_URL", "CONSOLE_INBOUND_TOKEN", "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_SECRET",
             "FACEBOOK_PAGE_ACCESS_TOKEN", "RASA_TOKEN", "ACTION_SERVER_TOKEN"},
    "actions": {"KB_DATABASE_URL", "HANDOFF_OFFICE_HOURS", "HANDOFF_TIMEZONE", "ACTION_SERVER_TOKEN", "ACTION_HOST",
                "ACTION_PORT"},
    "console": {"KB_DATABASE_URL", "CONSOLE_SECRET_KEY", "CONSOLE_INBOUND_TOKEN", "RASA_URL", "RASA_TOKEN",
                "CONSOLE_SECURE_COOKIES", "TELEGRAM_PUSH_URL", "FACEBOOK_PAGE_ACCESS_TOKEN",
                "CONSOLE_AUTO_SETUP", "CONSOLE_HOST", "CONSOLE_PORT"},
    "webchat": {"WEBCHAT_HOST", "WEBCHAT_PORT", "WEBCHAT_RASA_URL"},
    "telegram": {"TELEGRAM_HOST", "TELEGRAM_PORT", "TELEGRAM_MODE", "TELEGRAM_WEBHOOK_URL",
                 "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_BOT_TOKEN", "KB_DATABASE_URL", "RASA_URL",
                 "CONSOLE_URL", "CONSOLE_INBOUND_TOKEN"},
    "migrate": {"KB_DATABASE_URL"},
}
# read by Rasa itself, not by this project's code
THIRD_PARTY_ENV = {"RASA_TELEMETRY_ENABLED"}
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|_KEY$")

# (host, path, pathType, service, port): everything the Ingress objects route, nothing else
PUBLIC_ROUTES = {
    (CHAT, "/$", "ImplementationSpecific", "bo-hessen-webchat", 8080),
    (CHAT, "/static/", "ImplementationSpecific", "bo-hessen-webchat", 8080),
    (CHAT, "/webhooks/rest/(webhook|outbox|outbox/ack)$", "ImplementationSpecific", "bo-hessen-rasa", 5005),
    (CHAT, "/rasa/webhooks/rest/(webhook|outbox|outbox/ack)$", "ImplementationSpecific", "bo-hessen-rasa", 5005),
    (CHAT, "/webhooks/facebook/webhook$", "ImplementationSpecific", "bo-hessen-rasa", 5005),
    (CHAT, "/telegram/webhook$", "ImplementationSpecific", "bo-hessen-telegram", 8081),
    (CONSOLE, "/", "Exact", "bo-hessen-console", 8000),
    (CONSOLE, "/login", "Exact", "bo-hessen-console", 8000),
    (CONSOLE, "/logout", "Exact", "bo-hessen-console", 8000),
    (CONSOLE, "/audit", "Exact", "bo-hessen-console", 8000),
    (CONSOLE, "/users", "Exact", "bo-hessen-console", 8000),
    (CONSOLE, "/dashboard", "Exact", "bo-hessen-console", 8000),
    (CONSOLE, "/textbausteine", "Prefix", "bo-hessen-console", 8000),
    (CONSOLE, "/teams", "Prefix", "bo-hessen-console", 8000),
    (CONSOLE, "/verpasst", "Prefix", "bo-hessen-console", 8000),
    (CONSOLE, "/handoffs", "Prefix", "bo-hessen-console", 8000),
    (CONSOLE, "/static", "Prefix", "bo-hessen-console", 8000),
    (CONSOLE, "/api/v1", "Prefix", "bo-hessen-console", 8000),
}
# (host, URL path, service, port, path the backend sees)
PUBLIC_URLS = [
    (CHAT, "/", "bo-hessen-webchat", 8080, "/"),
    (CHAT, "/static/chat.js", "bo-hessen-webchat", 8080, "/static/chat.js"),
    (CHAT, "/webhooks/rest/webhook", "bo-hessen-rasa", 5005, "/webhooks/rest/webhook"),
    (CHAT, "/webhooks/rest/outbox", "bo-hessen-rasa", 5005, "/webhooks/rest/outbox"),
    (CHAT, "/rasa/webhooks/rest/webhook", "bo-hessen-rasa", 5005, "/webhooks/rest/webhook"),
    (CHAT, "/rasa/webhooks/rest/outbox", "bo-hessen-rasa", 5005, "/webhooks/rest/outbox"),
    (CHAT, "/webhooks/rest/outbox/ack", "bo-hessen-rasa", 5005, "/webhooks/rest/outbox/ack"),
    (CHAT, "/rasa/webhooks/rest/outbox/ack", "bo-hessen-rasa", 5005, "/webhooks/rest/outbox/ack"),
    (CHAT, "/webhooks/facebook/webhook", "bo-hessen-rasa", 5005, "/webhooks/facebook/webhook"),
    (CHAT, "/telegram/webhook", "bo-hessen-telegram", 8081, "/telegram/webhook"),
    (CONSOLE, "/", "bo-hessen-console", 8000, "/"),
    (CONSOLE, "/login", "bo-hessen-console", 8000, "/login"),
    (CONSOLE, "/handoffs/7/reply", "bo-hessen-console", 8000, "/handoffs/7/reply"),
    (CONSOLE, "/static/console.css", "bo-hessen-console", 8000, "/static/console.css"),
    (CONSOLE, "/api/v1/handoffs", "bo-hessen-console", 8000, "/api/v1/handoffs"),
]
INTERNAL_URLS = [
    "/model", "/model/train", "/status", "/version", "/domain", "/conversations/abc/tracker",
    "/conversations/abc/tracker/events", "/conversations/abc/execute", "/webhooks/rest/delete",
    "/webhooks/rest/",
    "/rasa/model", "/rasa/status", "/rasa/conversations/abc/tracker/events", "/rasa/webhooks/rest/delete",
    "/internal/push", "/telegram/internal/push", "/webhook", "/health", "/healthz", "/api/inbound",
    "/api/outbox/abc", "/api/outbox-pending", "/api/outbox-delivered", "/api/conversations/abc", "/docs",
    "/webhooks/rest/bridge", "/rasa/webhooks/rest/bridge", "/api/outbox-ack", "/api/usage", "/api/export/abc",
    "/openapi.json", "/webhooks/rest/webhook/extra", "/telegram/webhook/extra",
]
# the console's channel API (Rasa and the bridge call it inside the cluster) and its health check
# The API documentation (/docs, /redoc, /openapi.json) needs a console login and is not routed by the Ingress either:
# advisers use the JSON API, they do not need its documentation from outside.
CONSOLE_INTERNAL_PREFIXES = ("/api/inbound", "/api/outbox", "/api/conversations", "/api/usage", "/api/export",
                             "/healthz", "/docs", "/redoc",
                             "/openapi.json")
# who may open a connection to each component's port
ALLOWED_CALLERS = {
    "rasa": {INGRESS_CONTROLLER, "console", "telegram"},
    "actions": {"rasa"},
    "console": {INGRESS_CONTROLLER, "rasa", "telegram"},
    "webchat": {INGRESS_CONTROLLER},
    "telegram": {INGRESS_CONTROLLER, "console"},
    "migrate": set(),
}
BASE_IMAGES = {"python:3.10-slim-bookworm", "python:3.11-slim-bookworm"}
TRAIN = "rasa train --config bot/config.yml --domain bot/domain --data bot/data nlu_data --out models " \
        "--fixed-model-name bot"
RASA_RUN = ["-m", "rasa_plugins.serve", "run", "--model", "models/bot.tar.gz", "--endpoints",
            "bot/endpoints.production.yml", "--credentials", "bot/credentials.yml", "--port", "5005", "--enable-api"]


# --- manifests ----------------------------------------------------------------------------------------------

def load_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return docs


DOCS = load_documents()


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in DOCS if doc["kind"] == kind]


def component(doc: dict[str, Any]) -> str:
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


def workloads() -> dict[str, dict[str, Any]]:
    """component → Deployment or Job"""
    found = {component(doc): doc for doc in of_kind("Deployment") + of_kind("Job")}
    assert set(found) == set(COMMANDS), "one workload per process"
    return found


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def the_container(name: str) -> dict[str, Any]:
    [container] = pod_spec(workloads()[name])["containers"]
    return container


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))


def configmap() -> dict[str, str]:
    [config] = [doc for doc in of_kind("ConfigMap") if doc["metadata"]["name"] == CONFIGMAP]
    return config["data"]


def environment(name: str) -> dict[str, str | None]:
    """The container's environment: ConfigMap values, plain values, None for values from the Secret."""
    container = the_container(name)
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == CONFIGMAP
        env.update(configmap())
    for var in container.get("env", []):
        env[var["name"]] = var.get("value")
    return env


def secret_refs() -> list[tuple[str, str, str]]:
    """(component, variable, key) of every value taken from a Secret"""
    refs = []
    for name, workload in workloads().items():
        for container in pod_spec(workload)["containers"]:
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == SECRET, f"{name}: {var['name']} must come from {SECRET}"
                    refs.append((name, var["name"], ref["key"]))
    return refs


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [str(key), *strings(value)]]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("doc", [d for _, d in DOCS],
                         ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in DOCS])
def test_document_is_valid_against_the_kubernetes_schema(doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kust = kustomization()
    assert (kust["apiVersion"], kust["kind"]) == ("kustomize.config.k8s.io/v1beta1", "Kustomization")
    files = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kust["resources"]) == files
    assert len(set(kust["resources"])) == len(kust["resources"])
    assert not list(K8S.glob("*.yml")), "manifests end in .yaml"


def test_images_are_the_two_project_images_with_a_release_tag() -> None:
    tags = {image["name"]: image["newTag"] for image in kustomization()["images"]}
    assert set(tags) == {APP_IMAGE, RASA_IMAGE}
    for name, workload in workloads().items():
        for container in pod_spec(workload)["containers"]:
            repository, _, tag = container["image"].rpartition(":")
            assert repository == (RASA_IMAGE if name == "rasa" else APP_IMAGE), name
            assert tag == tags[repository] and tag != "latest", name
            assert container["imagePullPolicy"] == "IfNotPresent"


def test_everything_lives_in_the_namespace() -> None:
    [namespace] = of_kind("Namespace")
    assert namespace["metadata"]["name"] == NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for _, doc in DOCS:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE, doc["metadata"]["name"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_pod_runs_locked_down(name: str) -> None:
    spec = pod_spec(workloads()[name])
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False, "Service links would inject variables such as *_PORT"
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == UID and pod["runAsGroup"] == UID
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not spec.get("initContainers")
    for container in spec["containers"]:
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert "privileged" not in ctx
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, "HOME and TMPDIR (/tmp) must be writable"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "sizeLimit" in volumes[mounts["/tmp"]]["emptyDir"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_container_has_resources_and_probes(name: str) -> None:
    container = the_container(name)
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"]
    assert mebibytes(resources["requests"]["memory"]) <= mebibytes(resources["limits"]["memory"])
    if name == "migrate":
        return
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert list(ports.values()) == [PORTS[name]]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == HEALTH[name], probe
        assert ports[check["port"]] == PORTS[name], probe


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_container_runs_the_documented_command(name: str) -> None:
    container = the_container(name)
    assert container.get("command") == COMMANDS[name]
    assert "args" not in container
    env = environment(name)
    for key, value in FIXED_ENV.get(name, {}).items():
        assert env.get(key) == value, key


def test_rasa_rolls_over_without_losing_capacity() -> None:
    rasa = workloads()["rasa"]
    assert rasa["spec"]["replicas"] == 2
    assert rasa["spec"]["strategy"] == {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    container = the_container("rasa")
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep" and 0 < int(sleep[1]) < pod_spec(rasa)["terminationGracePeriodSeconds"]
    assert mebibytes(container["resources"]["requests"]["memory"]) >= 1536
    budgets = [pdb for pdb in of_kind("PodDisruptionBudget") if component(pdb) == "rasa"]
    assert [pdb["spec"]["minAvailable"] for pdb in budgets] == [1]
    assert budgets[0]["spec"]["selector"]["matchLabels"] == rasa["spec"]["selector"]["matchLabels"]


def test_action_server_and_bridge_replicas() -> None:
    actions = workloads()["actions"]
    assert actions["spec"]["replicas"] >= 2
    assert actions["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert mebibytes(the_container("actions")["resources"]["requests"]["memory"]) >= 600
    telegram = workloads()["telegram"]
    assert telegram["spec"]["replicas"] == 1, "one bridge: per-chat order, one webhook registration"
    assert telegram["spec"]["strategy"] == {"type": "Recreate"}, "never two bridges at once"
    assert "telegram" not in {component(pdb) for pdb in of_kind("PodDisruptionBudget")}


def test_services_select_their_pods_on_the_container_port() -> None:
    services = {svc["metadata"]["name"]: svc for svc in of_kind("Service")
                if svc["spec"]["type"] == "ClusterIP"}
    assert set(services) == {f"bo-hessen-{name}" for name in PORTS}
    for name, port in PORTS.items():
        svc = services[f"bo-hessen-{name}"]
        workload = workloads()[name]
        assert svc["spec"]["selector"] == workload["spec"]["selector"]["matchLabels"]
        assert svc["spec"]["selector"].items() <= workload["spec"]["template"]["metadata"]["labels"].items()
        [svc_port] = svc["spec"]["ports"]
        assert svc_port["port"] == port
        assert {p["name"] for p in the_container(name)["ports"]} == {svc_port["targetPort"]}


def test_postgres_and_redis_are_external_services() -> None:
    external = {svc["metadata"]["name"]: svc["spec"] for svc in of_kind("Service")
                if svc["spec"]["type"] == "ExternalName"}
    assert set(external) == {"bo-hessen-postgres", "bo-hessen-redis"}
    config = configmap()
    assert config["TRACKER_DB_HOST"] == "bo-hessen-postgres" and config["REDIS_HOST"] == "bo-hessen-redis"
    assert not of_kind("StatefulSet") and not of_kind("PersistentVolumeClaim")


@pytest.mark.parametrize("name", sorted(REQUIRED_ENV))
def test_process_gets_every_setting_it_needs(name: str) -> None:
    assert REQUIRED_ENV[name] <= set(environment(name))


def test_rasa_gets_every_variable_its_yaml_files_use() -> None:
    used = set()
    for path in ("bot/endpoints.production.yml", "bot/credentials.yml"):
        used |= set(re.findall(r"\$\{(\w+)\}", (ROOT / path).read_text(encoding="utf-8")))
    assert used and used <= set(environment("rasa"))


def test_internal_addresses_name_services_of_the_namespace() -> None:
    services = {svc["metadata"]["name"]: svc["spec"] for svc in of_kind("Service")}
    config = configmap()
    for key in ("RASA_URL", "ACTION_SERVER_URL", "CONSOLE_URL", "TELEGRAM_PUSH_URL"):
        url = urlsplit(config[key])
        assert url.scheme == "http" and url.hostname in services, key
        assert url.port in {p["port"] for p in services[url.hostname]["ports"]}, key
    assert config["ACTION_SERVER_URL"].endswith(":5055/webhook")
    assert config["TELEGRAM_PUSH_URL"].endswith("/internal/push")
    webhook = urlsplit(config["TELEGRAM_WEBHOOK_URL"])
    assert (webhook.scheme, webhook.hostname, webhook.path) == ("https", CHAT, "/telegram/webhook")


def test_every_variable_is_read_by_the_project_or_rasa() -> None:
    top = [d for d in ROOT.iterdir()
           if d.is_dir() and not d.name.startswith(".") and d.name not in {"tests", "deploy"}]
    sources = [p for d in top for p in sorted(d.rglob("*.py"))] + sorted((ROOT / "bot").glob("*.yml"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    names = set(configmap()) | {var for name in COMMANDS for var in environment(name)}
    unknown = {name for name in names if name not in text} - THIRD_PARTY_ENV
    assert not unknown, f"set but read by nothing (typo?): {sorted(unknown)}"


def test_secrets_are_referenced_never_written_down() -> None:
    assert not of_kind("Secret"), f"the operator creates {SECRET} (deploy/README.md), not the manifests"
    leaked = [key for key in configmap() if SECRET_NAME.search(key)]
    assert not leaked, f"secret values belong in {SECRET}: {leaked}"
    for name in COMMANDS:
        for var in the_container(name).get("env", []):
            assert not (SECRET_NAME.search(var["name"]) or var["name"].endswith("DATABASE_URL")) or \
                "valueFrom" in var, f"{name}: {var['name']} must come from {SECRET}"
    for filename, doc in DOCS:
        found = [s for s in strings(doc) if looks_like_a_credential(s)]
        assert not found, f"{filename}: looks like a credential: {found}"


def looks_like_a_credential(text: str) -> bool:
    """A URL with a password, a Telegram bot token, or a long random-looking run of digits and letters."""
    if re.search(r"://[^/\s:@]+:[^/\s@]+@|\b\d{6,}:[\w-]{30,}", text):
        return True
    runs = re.findall(r"[A-Za-z0-9+/_=-]{32,}", text)
    return any(len(re.findall(r"\d", run)) >= 4 and len(re.findall(r"[A-Za-z]", run)) >= 4 for run in runs)


def test_readme_creates_exactly_the_referenced_secret_keys() -> None:
    readme = README.read_text(encoding="utf-8")
    assert f"kubectl -n {NAMESPACE} create secret generic {SECRET}" in readme
    documented = set(re.findall(r"--from-literal=(\w+)=", readme))
    assert documented == {key for _, _, key in secret_refs()}
    for _, variable, key in secret_refs():
        assert variable == key


def test_readme_says_what_was_run_and_what_was_only_validated() -> None:
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert "never applied to a cluster here" in readme
    assert "checked statically, not built" in readme
    assert "kubectl apply -k deploy/k8s" in readme


# --- Ingress: a model of ingress-nginx's path matching ------------------------------------------------------

@dataclass(frozen=True)
class Route:
    ingress: str
    host: str
    path: str
    path_type: str
    service: str
    port: int
    regex: bool
    rewrite: str | None


def routes() -> list[Route]:
    found = []
    for ing in of_kind("Ingress"):
        notes = ing["metadata"].get("annotations", {})
        rewrite = notes.get("nginx.ingress.kubernetes.io/rewrite-target")
        regex = notes.get("nginx.ingress.kubernetes.io/use-regex") == "true" or rewrite is not None
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                found.append(Route(ing["metadata"]["name"], rule["host"], path["path"], path["pathType"],
                                   backend["name"], backend["port"]["number"], regex, rewrite))
    return found


def resolve(host: str, url: str) -> list[tuple[str, int, str]]:
    """(service, port, path the backend sees) for every Ingress path that matches.

    ingress-nginx reads every path of a host as a case-insensitive regular expression anchored at the start
    once any Ingress of that host uses regular expressions or a rewrite; otherwise Exact and Prefix keep their
    Kubernetes meaning."""
    on_host = [r for r in routes() if r.host == host]
    regex_host = any(r.regex for r in on_host)
    hits = []
    for r in on_host:
        if regex_host:
            match = re.match(r.path, url, re.IGNORECASE)
            if not match:
                continue
            upstream = url
            if r.rewrite:
                upstream = re.sub(r"\$(\d)", lambda g, m=match: m.group(int(g[1])), r.rewrite)
        else:
            assert r.path_type in {"Exact", "Prefix"}, r
            base = r.path.rstrip("/")
            if not (url == r.path or (r.path_type == "Prefix" and (not base or url.startswith(base + "/")))):
                continue
            upstream = url
        hits.append((r.service, r.port, upstream))
    return hits


def test_ingress_routes_exactly_the_public_entries() -> None:
    assert {(r.host, r.path, r.path_type, r.service, r.port) for r in routes()} == PUBLIC_ROUTES
    assert len(routes()) == len(PUBLIC_ROUTES)
    services = {svc["metadata"]["name"]: svc for svc in of_kind("Service")}
    for r in routes():
        assert r.service != "bo-hessen-actions"
        assert r.port in {p["port"] for p in services[r.service]["spec"]["ports"]}
        for word in ("model", "conversations", "status", "delete", "internal", "push"):
            assert word not in r.path, r


@pytest.mark.parametrize(("host", "url", "service", "port", "upstream"), PUBLIC_URLS)
def test_public_url_reaches_its_backend(host: str, url: str, service: str, port: int, upstream: str) -> None:
    assert resolve(host, url) == [(service, port, upstream)]


@pytest.mark.parametrize("host", [CHAT, CONSOLE])
@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_url_is_not_routed(host: str, url: str) -> None:
    assert resolve(host, url) == [], "must end at the controller's 404"


def test_web_chat_page_reaches_rasa_through_the_ingress() -> None:
    script = (ROOT / "channels" / "webchat" / "static" / "chat.js").read_text(encoding="utf-8")
    paths = set(re.findall(r"""["'](/webhooks/rest/[\w/]+)""", script))
    assert paths == {"/webhooks/rest/webhook", "/webhooks/rest/outbox", "/webhooks/rest/outbox/ack"}
    prefix = configmap()["WEBCHAT_RASA_URL"]
    for path in paths:
        assert resolve(CHAT, prefix + path) == [("bo-hessen-rasa", 5005, path)]


def imported_names(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """alias → (module, attribute or None) for the file's imports from the project's core package (where the
    wire names live, core/protocol.py)"""
    names: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if node.module.split(".")[0] == "core":
            for alias in node.names:
                module = f"{node.module}.{alias.name}"
                is_module = (ROOT / (module.replace(".", "/") + ".py")).exists()
                names[alias.asname or alias.name] = (module, None) if is_module else (node.module, alias.name)
    return names


def string_value(node: ast.expr, names: dict[str, tuple[str, str | None]]) -> str | None:
    """A path argument: a literal, a constant of core (``protocol.X``, ``X``) or a sum of these."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = string_value(node.left, names), string_value(node.right, names)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
        module, attribute = names[node.value.id]
        value = getattr(importlib.import_module(module), node.attr) if attribute is None else None
    elif isinstance(node, ast.Name) and node.id in names and names[node.id][1] is not None:
        module, attribute = names[node.id]
        value = getattr(importlib.import_module(module), str(attribute))
    else:
        return None
    return value if isinstance(value, str) else None


def console_routes() -> set[str]:
    """Every path of the console app, read from its source: routes of its APIRouter objects and of the app,
    and mounts."""
    found, unresolved = set(), []
    for path in sorted((ROOT / "channels" / "console").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = imported_names(tree)
        prefixes: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) == "APIRouter":
                keywords = [k.value for k in node.value.keywords if k.arg == "prefix"]
                prefix = string_value(keywords[0], names) if keywords else ""
                assert prefix is not None, f"{path.name}: unreadable router prefix"
                prefixes.update({t.id: prefix for t in node.targets if isinstance(t, ast.Name)})
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or not node.args:
                continue
            owner, method = node.func.value, node.func.attr
            if not isinstance(owner, ast.Name) or owner.id not in {*prefixes, "app"}:
                continue
            if method not in {"get", "post", "put", "patch", "delete", "mount"}:
                continue
            route = string_value(node.args[0], names)
            if route is None:
                unresolved.append(f"{path.name}:{node.lineno}")
            elif method == "mount":
                found.add(route + "/file.css")
            else:
                found.add(prefixes.get(owner.id, "") + route)
    assert not unresolved, f"route paths this test cannot read: {unresolved}"
    return {re.sub(r"\{[^}]+\}", "1", route) for route in found}


def test_console_pages_and_api_are_public_and_its_channel_api_is_not() -> None:
    paths = console_routes()
    assert {"/", "/login", "/api/inbound", "/healthz"} <= paths, "console routes not found"
    for path in sorted(paths):
        expected = [] if path.startswith(CONSOLE_INTERNAL_PREFIXES) else [("bo-hessen-console", 8000, path)]
        assert resolve(CONSOLE, path) == expected, path


def test_ingresses_limit_body_size_and_rate_and_use_tls() -> None:
    for ing in of_kind("Ingress"):
        name, notes, spec = ing["metadata"]["name"], ing["metadata"]["annotations"], ing["spec"]
        assert spec["ingressClassName"] == "nginx"
        assert notes["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true", name
        size = notes["nginx.ingress.kubernetes.io/proxy-body-size"]
        assert size.endswith("k") and int(size[:-1]) <= 256, name
        if name in {"bo-hessen-public", "bo-hessen-webchat-rasa"}:
            assert size == "64k", name
        assert int(notes["nginx.ingress.kubernetes.io/limit-rps"]) > 0, name
        tls_hosts = {host for tls in spec["tls"] for host in tls["hosts"]}
        assert {rule["host"] for rule in spec["rules"]} <= tls_hosts, name


# --- NetworkPolicies ----------------------------------------------------------------------------------------

def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is modelled here"
    return selector.get("matchLabels", {}).items() <= labels.items()


def callers(name: str) -> set[str]:
    """Who may connect to the component's port under the NetworkPolicies."""
    pods = {c: w["spec"]["template"]["metadata"]["labels"] for c, w in workloads().items()}
    port = PORTS.get(name)
    found: set[str] = set()
    for policy in of_kind("NetworkPolicy"):
        spec = policy["spec"]
        assert "Ingress" in spec["policyTypes"]
        if not selects(spec["podSelector"], pods[name]):
            continue
        for rule in spec.get("ingress", []):
            if "ports" in rule and port not in {p["port"] for p in rule["ports"]}:
                continue
            assert rule.get("from"), "a rule without 'from' admits everybody"
            for peer in rule["from"]:
                assert "ipBlock" not in peer
                if "namespaceSelector" in peer:
                    namespace = {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
                    assert peer["namespaceSelector"] == namespace
                    assert peer["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}
                    found.add(INGRESS_CONTROLLER)
                else:
                    found |= {c for c, labels in pods.items() if selects(peer["podSelector"], labels)}
    return found


def test_network_policies_deny_by_default() -> None:
    defaults = [p for p in of_kind("NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert len(defaults) == 1 and defaults[0]["spec"]["policyTypes"] == ["Ingress"]
    assert "ingress" not in defaults[0]["spec"]


@pytest.mark.parametrize("name", sorted(ALLOWED_CALLERS))
def test_network_policy_admits_exactly_the_intended_callers(name: str) -> None:
    assert callers(name) == ALLOWED_CALLERS[name]


# --- Dockerfiles (static) -----------------------------------------------------------------------------------

@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]

    def copies(self) -> list[tuple[str | None, list[str], str]]:
        """(--from stage or None, sources, destination) of every COPY"""
        result = []
        for args in self.all("COPY"):
            words = shlex.split(args)
            flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
            paths = [w for w in words if not w.startswith("--")]
            result.append((flags.get("from"), paths[:-1], paths[-1]))
        return result

    def env(self) -> dict[str, str]:
        values = {}
        for args in self.all("ENV"):
            values.update(dict(word.split("=", 1) for word in shlex.split(args)))
        return values


def parse_dockerfile(name: str) -> list[Stage]:
    stages: list[Stage] = []
    logical = ""
    for raw in (DOCKER / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not logical):
            continue
        logical += line[:-1] + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        keyword, _, args = logical.partition(" ")
        logical = ""
        if keyword.upper() == "FROM":
            base, _, stage = args.partition(" AS ")
            stages.append(Stage(stage.strip() or str(len(stages)), base.strip(), []))
        else:
            stages[-1].instructions.append(Instruction(keyword.upper(), args.strip()))
    return stages


def stage(stages: list[Stage], name: str) -> Stage:
    [found] = [s for s in stages if s.name == name]
    return found


def in_build_context(ignore_file: str, path: str) -> bool:
    """Whether BuildKit sends ``path`` to the builder under the ignore file (last matching pattern wins; a
    pattern also matches everything below a matching directory)."""
    patterns = [p.strip() for p in (DOCKER / ignore_file).read_text(encoding="utf-8").splitlines()
                if p.strip() and not p.strip().startswith("#")]
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            included = negated
    return included


DOCKERFILES = ["Dockerfile.app", "Dockerfile.rasa"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_bases_are_pinned(name: str) -> None:
    stages = parse_dockerfile(name)
    for index, s in enumerate(stages):
        assert s.base in BASE_IMAGES or s.base in {earlier.name for earlier in stages[:index]}, s.base
    assert stages[-1].name == "runtime"
    expected = "python:3.11-slim-bookworm" if name == "Dockerfile.app" else "python:3.10-slim-bookworm"
    assert stages[-1].base == expected


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_copy_source_exists_and_is_in_the_build_context(name: str) -> None:
    stages = parse_dockerfile(name)
    for index, s in enumerate(stages):
        for source_stage, sources, destination in s.copies():
            if source_stage is not None:
                assert source_stage in {earlier.name for earlier in stages[:index]}, source_stage
                continue
            assert len(sources) == 1 or destination.endswith("/"), destination
            for source in sources:
                assert (ROOT / source).exists(), f"{name}: COPY {source}: not in the repository"
                assert in_build_context(f"{name}.dockerignore", source), f"{name}: {source} is excluded"
    for secret_path in ("var/secrets.env", ".git/config", ".venv/pyvenv.cfg", "models/bot.tar.gz"):
        assert not in_build_context(f"{name}.dockerignore", secret_path), secret_path
    assert not in_build_context(f"{name}.dockerignore", "core/__pycache__/db.cpython-311.pyc")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_image_runs_as_non_root_and_bakes_in_no_secret(name: str) -> None:
    stages = parse_dockerfile(name)
    runtime = stages[-1]
    assert runtime.all("USER")[-1] == f"{UID}:{UID}"
    assert any(f"--uid {UID}" in run for run in runtime.all("RUN"))
    for s in stages:
        env = s.env()
        assert env.get("PYTHONDONTWRITEBYTECODE") == "1" or s.base not in BASE_IMAGES, s.name
        for key, value in env.items():
            assert not SECRET_NAME.search(key), f"{name}: ENV {key}"
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", value), f"{name}: ENV {key}"
        assert not any(SECRET_NAME.search(arg) for arg in s.all("ARG")), name


def test_app_image_runs_the_action_server_by_default() -> None:
    runtime = parse_dockerfile("Dockerfile.app")[-1]
    assert json.loads(runtime.all("CMD")[-1]) == COMMANDS["actions"]
    assert not runtime.all("ENTRYPOINT")
    deps = stage(parse_dockerfile("Dockerfile.app"), "deps")
    assert any("uv sync --frozen --no-dev" in run for run in deps.all("RUN"))


def app_packages() -> set[str]:
    runtime = parse_dockerfile("Dockerfile.app")[-1]
    return {src.rstrip("/") for frm, sources, _ in runtime.copies() if frm is None for src in sources}


def test_app_image_holds_every_module_the_manifests_run() -> None:
    packages = app_packages()
    assert packages == {"core", "knowledge_base", "handoff", "actions", "channels", "migrations", "bot", "nlu_data"}
    commands = [c for name, c in COMMANDS.items() if c and name != "rasa"]
    modules = {m for c in commands for m in re.findall(r"python -m ([\w.]+)", " ".join(c))}
    assert modules == {"actions.server", "channels.console", "channels.webchat", "channels.telegram",
                       "knowledge_base.cli"}
    for module in modules:
        path = ROOT / module.replace(".", "/")
        assert (path / "__main__.py").exists() or path.with_suffix(".py").exists(), module
        assert module.split(".")[0] in packages, module
    assert 'name = "rasa-sdk"' in (ROOT / "uv.lock").read_text(encoding="utf-8")


def test_rasa_image_trains_from_a_generated_lookup_table() -> None:
    stages = parse_dockerfile("Dockerfile.rasa")
    assert [s.name for s in stages] == ["lookups", "rasa-deps", "train", "runtime"]
    lookups = stage(stages, "lookups")
    assert lookups.base == "python:3.11-slim-bookworm"
    copied = {src.rstrip("/") for frm, sources, _ in lookups.copies() if frm is None for src in sources}
    assert copied - {"pyproject.toml", "uv.lock"} == app_packages() - {"bot", "nlu_data"}, "the app image's code"
    script = " ".join(lookups.all("RUN"))
    for step in ("python -m knowledge_base.cli migrate", "python -m knowledge_base.cli load",
                 "python -m knowledge_base.cli export-lookups nlu_data/lookup_occupation.yml"):
        assert step in script
    assert lookups.env()["KB_DATABASE_URL"].startswith("sqlite:////tmp/")
    deps = stage(stages, "rasa-deps")
    assert deps.base == "python:3.10-slim-bookworm"
    assert any("pip install --no-deps -r /tmp/requirements-rasa.lock" in run for run in deps.all("RUN"))
    assert ("bot/requirements-rasa.lock",) in {tuple(s) for _, s, _ in deps.copies()}
    train = stage(stages, "train")
    assert train.base == "rasa-deps"
    lookup = "nlu_data/lookup_occupation.yml"
    assert ("lookups", [f"/build/{lookup}"], lookup) in train.copies()
    assert train.all("RUN") == [TRAIN]


def test_rasa_image_runs_the_entrypoint_with_the_model() -> None:
    runtime = parse_dockerfile("Dockerfile.rasa")[-1]
    assert json.loads(runtime.all("ENTRYPOINT")[-1]) == ["/usr/local/bin/rasa-entrypoint"]
    assert not runtime.all("CMD")
    copies = runtime.copies()
    assert ("train", ["/build/models/bot.tar.gz"], "models/bot.tar.gz") in copies
    assert (None, ["deploy/docker/rasa-entrypoint.sh"], "/usr/local/bin/rasa-entrypoint") in copies
    sources = {src for frm, srcs, _ in copies if frm is None for src in srcs}
    assert sources == {"bot/", "rasa_plugins/", "core/__init__.py", "core/protocol.py",
                       "deploy/docker/rasa-entrypoint.sh"}
    env = runtime.env()
    assert env["PYTHONPATH"] == "/app" and env["HOME"] == "/tmp"
    assert runtime.all("WORKDIR") == ["/app"]


def test_rasa_image_holds_every_module_rasa_loads() -> None:
    """Custom channels (credentials.yml), stores and components (endpoints, config) must be in the Rasa image;
    the code inside Rasa imports nothing of the project but core.protocol."""
    in_image = {"rasa_plugins", "core/__init__.py", "core/protocol.py"}
    names: list[str] = list(yaml.safe_load((ROOT / "bot" / "credentials.yml").read_text(encoding="utf-8")))
    endpoints = yaml.safe_load((ROOT / "bot" / "endpoints.production.yml").read_text(encoding="utf-8"))
    names += [str(section.get("type", "")) for section in endpoints.values() if isinstance(section, dict)]
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    names += [item["name"] for item in config.get("pipeline", []) + config.get("policies", [])]
    custom = [name for name in names if "." in name]
    for dotted in custom:
        module = dotted.rsplit(".", 1)[0].replace(".", "/")
        candidates = [f"{module}.py", f"{module}/__init__.py"]
        found = [c for c in candidates
                 if (ROOT / c).exists() and (c.split("/")[0] in in_image or c in in_image)]
        assert found, f"{dotted} is not in the Rasa image (rasa_plugins/, core/protocol.py)"
    first_party = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    for path in sorted((ROOT / "rasa_plugins").glob("**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported = [node.module] if node.module != "core" else [f"core.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            for name in imported:
                if name.split(".")[0] in first_party:
                    allowed = name.split(".")[0] == "rasa_plugins" or name == "core.protocol"
                    assert allowed, f"{path.name} imports {name}"


def test_entrypoint_runs_rasa_with_the_token_from_the_environment_not_the_command_line(tmp_path: Path) -> None:
    """The entrypoint starts Rasa through rasa_plugins.serve, which adds the token inside the process."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', encoding="utf-8")
    fake.chmod(0o755)
    script = str(DOCKER / "rasa-entrypoint.sh")
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "RASA_TOKEN": "token with spaces $x"}
    done = subprocess.run(["sh", script, "--cors", "*"], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [*RASA_RUN, "--cors", "*"]
    assert "token with spaces" not in done.stdout
    missing = subprocess.run(["sh", script], env={"PATH": env["PATH"]}, capture_output=True, text=True,
                             check=False)
    assert missing.returncode != 0 and "RASA_TOKEN" in missing.stderr and not missing.stdout
