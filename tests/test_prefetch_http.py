"""``prefetch`` through the real download code (issue 11, deliverable 3): the stand-in hub served over loopback HTTP,
huggingface_hub pointed at it with ``HF_ENDPOINT``, ``python -m course_utils prefetch --target DIR`` downloading
every pinned revision the normal way, then models loading from DIR with the network cut."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import prefetch, registry, standin_hub
from course_utils.hub_server import StandinHubServer

REPO = Path(__file__).resolve().parents[1]


def _guarded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment (no HF_*/FASTEMBED_* of the caller) with the network guard on (loopback allowed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "FASTEMBED_", "TRANSFORMERS_"))}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "netguard"), str(REPO)]), COURSE_NETGUARD="1",
               COURSE_NETGUARD_LOG=str(tmp_path / "netguard.log"), TOKENIZERS_PARALLELISM="false", **extra)
    return env

_LOAD_FROM_PREFETCH = r"""
import json
from course_utils import netguard, load_model
netguard.install()
out = {}
for role in ("ko_dense", "static", "fastembed_dense", "reranker"):
    m = load_model(role)
    if hasattr(m, "score"):
        out[role] = list(m.score("질문", ["문서 하나", "문서 둘"]).shape)
    else:
        out[role] = list(m.encode_documents(["서울 날씨", "검색"]).shape)
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def hub() -> Path:
    return standin_hub.build()


def test_prefetch_downloads_over_http_then_loads_with_the_network_cut(hub: Path, tmp_path: Path) -> None:
    target = tmp_path / "models"
    with StandinHubServer(hub) as server:
        env = _guarded_env(tmp_path, HF_ENDPOINT=server.url, HF_HUB_DISABLE_TELEMETRY="1",
                           HF_HUB_DISABLE_PROGRESS_BARS="1")
        env.pop("COURSE_PROFILE", None)  # as a workshop organiser runs it: auto -> offline outside Colab
        proc = subprocess.run([sys.executable, "-m", "course_utils", "prefetch", "--target", str(target)],
                              env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
        requests = list(server.requests)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-4000:])
    # the normal way: tree listing, HEAD then GET of each file, for every pinned revision of the plan
    for item in prefetch.plan(target):
        if item.revision:
            repo = item.model_id
            assert f"GET /api/models/{repo}/tree/{item.revision}?recursive=true&expand=false" in requests, repo
            assert any(r.startswith(f"GET /{repo}/resolve/{item.revision}/") for r in requests), repo
            assert (target / "hub" / ("models--" + repo.replace("/", "--")) / "snapshots" / item.revision).is_dir()
    assert any(r.startswith("GET /api/models/Qdrant/bge-small-en-v1.5-onnx-Q") for r in requests)  # FastEmbed
    # pinned downloads write no refs/main: the static role must load by its pinned revision (course bug fixed)
    potion = target / "hub" / "models--minishlab--potion-multilingual-128M"
    assert potion.is_dir() and not (potion / "refs" / "main").exists()

    env = _guarded_env(tmp_path, HF_HUB_CACHE=str(target / "hub"), FASTEMBED_CACHE_PATH=str(target / "fastembed"),
                       HF_HUB_OFFLINE="1", COURSE_PROFILE="full", COURSE_FALLBACK="none")
    (tmp_path / "netguard.log").unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", _LOAD_FROM_PREFETCH], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))[len("RESULT "):])
    assert rows == {"ko_dense": [2, 1024], "static": [2, 256], "fastembed_dense": [2, 384], "reranker": [2]}
    log = tmp_path / "netguard.log"
    assert not log.exists() or not log.read_text().strip(), log.read_text()[:3000]


def test_the_server_answers_hub_errors_with_error_codes(hub: Path) -> None:
    import httpx

    with StandinHubServer(hub) as server:
        r = httpx.get(f"{server.url}/api/models/nobody/nothing")
        assert r.status_code == 404 and r.headers["X-Error-Code"] == "RepoNotFound"
        r = httpx.get(f"{server.url}/api/models/nlpai-lab/KURE-v1/revision/{'0' * 40}")
        assert r.headers["X-Error-Code"] == "RevisionNotFound"
        rev = registry.REVISIONS["nlpai-lab/KURE-v1"]
        r = httpx.head(f"{server.url}/nlpai-lab/KURE-v1/resolve/{rev}/no-such-file.bin")
        assert r.headers["X-Error-Code"] == "EntryNotFound"
        r = httpx.head(f"{server.url}/nlpai-lab/KURE-v1/resolve/{rev}/model.safetensors")
        assert r.status_code == 200 and r.headers["X-Repo-Commit"] == rev
        assert r.headers["X-Linked-Etag"].strip('"') == r.headers["ETag"].strip('"')
        assert int(r.headers["Content-Length"]) == int(r.headers["X-Linked-Size"]) > 0
