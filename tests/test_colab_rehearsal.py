"""The Colab path, rehearsed: notebook 00 as a learner opens it from its badge on Colab (issue 11, deliverable 4).

What plays Colab here:
- ``google.colab`` is importable (a stub package on the kernel's ``PYTHONPATH``) and imported before the first cell,
  as the Colab runtime does;
- the repository URL of the notebook's own setup cell (``config.REPO_URL``) points at a local clone of this
  repository (``file://``), and its clone folder (``config.COLAB_DIR``, ``/content/...`` on Colab) at a fresh
  folder; nothing else of the cell is changed, so the cell tested is the committed one;
- the kernel starts in that fresh folder (Colab's ``/content``).

The cell then really clones (``git clone --depth 1``) and asks pip to install the clone. ``%pip`` is the one thing
replaced: a real install would re-point this machine's shared environment at a throwaway clone, so Colab's ``%pip``
becomes ``pip install ... --dry-run --no-index --no-build-isolation --report``: pip resolves the clone's dependencies
against the installed environment, with no network, and reports what it would install. The test asserts that this is
the course package alone (everything else already satisfied), and never torch (Colab's torch stays). Then every
other cell of notebook 00 runs in that kernel, from the clone (``course_utils`` is imported from the clone), and the
setup cell runs a second time: no second clone, no second install, the same working folder and ``sys.path``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.config import COLAB_DIR, REPO_ROOT, REPO_URL
from course_utils.notebooks import colab_setup_source

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = REPO_ROOT / "notebooks" / "00_환경준비.ipynb"
STATE_MARK = "COLAB_REHEARSAL_STATE="

# Cell 0 of the rehearsal: what the Colab runtime has done before a learner's first cell.
RUNTIME_CELL = '''
import json, shlex, subprocess, sys
import google.colab  # Colab's runtime imports it at start; the setup cell looks for it in sys.modules
from IPython import get_ipython

PIP_CALLS = []

def _pip_dry_run(line):
    """Colab's %pip, rehearsed: ask pip what `pip <line>` would install here, without installing it."""
    PIP_CALLS.append(line)
    args = shlex.split(line)
    assert args[0] == "install", line
    cmd = [sys.executable, "-m", "pip", *args, "--dry-run", "--no-index", "--no-build-isolation",
           "--disable-pip-version-check", "--report", {report!r}]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError("pip --dry-run failed:\\n" + done.stdout[-3000:] + done.stderr[-3000:])

get_ipython().register_magic_function(_pip_dry_run, "line", "pip")
'''

STATE_CELL = f'''
import os, sys
import course_utils
print({STATE_MARK!r} + json.dumps({{"cwd": os.getcwd(), "pip_calls": PIP_CALLS, "in_colab": IN_COLAB,
    "course_utils": course_utils.__file__, "sys_path_count": sys.path.count(REPO_DIR)}}))
'''


def _stream_text(cell) -> str:  # type: ignore[no-untyped-def]
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _state(cell) -> dict:  # type: ignore[no-untyped-def]
    line = next(ln for ln in _stream_text(cell).splitlines() if ln.startswith(STATE_MARK))
    return json.loads(line[len(STATE_MARK):])


def _snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".git" not in p.parts)


@pytest.mark.timeout(420)
def test_notebook_00_on_a_rehearsed_colab(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("git 저장소가 아니어서 clone을 연습할 수 없습니다")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup_index, setup = next((i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert setup.source == colab_setup_source(), "설정 셀: python -m course_utils sync-colab 을 실행하세요"
    clone_url = f"{REPO_URL}.git"
    assert setup.source.count(clone_url) == 1 and setup.source.count(f'"{COLAB_DIR}"') == 1

    content = tmp_path / "content"  # Colab's /content: the kernel's working folder, empty at start
    content.mkdir()
    repo_dir = content / "embedding-vector-search"
    report = tmp_path / "pip-report.json"
    rehearsed = setup.source.replace(clone_url, REPO_ROOT.resolve().as_uri()).replace(
        f'"{COLAB_DIR}"', f'"{repo_dir}"')

    stub = tmp_path / "colab-stub"
    (stub / "google" / "colab").mkdir(parents=True)  # no google/__init__.py: a namespace, like google.protobuf's
    (stub / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab (rehearsal)."""\n')

    cells = [nbformat.v4.new_code_cell(RUNTIME_CELL.format(report=str(report)))]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        run = nbformat.v4.new_code_cell(rehearsed if i == setup_index else cell.source)
        cells.append(run)
    cells.append(nbformat.v4.new_code_cell(STATE_CELL))
    first_state_at = len(cells) - 1
    cells.append(nbformat.v4.new_code_cell(rehearsed))  # the learner runs the setup cell again
    cells.append(nbformat.v4.new_code_cell(STATE_CELL))
    rehearsal = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(stub), *filter(None, [env.get("PYTHONPATH")])])
    env["COURSE_PROFILE"] = "offline"  # full-profile loads are covered by the stand-in hub run, not here
    for key in ("COURSE_WORK_DIR", "COURSE_DATA_DIR"):  # the clone's own data/ and workspace/, as on Colab
        env.pop(key, None)
    client = nbclient.NotebookClient(rehearsal, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(content)}})
    with client.setup_kernel(cwd=str(content), env=env):  # the kernel starts in the fresh folder, as on Colab
        for index, cell in enumerate(rehearsal.cells):
            if index == first_state_at + 1:
                before = _snapshot(repo_dir)
                head = subprocess.run(["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True,
                                      text=True, check=True).stdout
            client.execute_cell(cell, index)

    first, second = _state(rehearsal.cells[first_state_at]), _state(rehearsal.cells[-1])
    # the setup cell saw Colab, cloned the local repository into the fresh folder and moved into its notebooks/
    assert first["in_colab"] is True
    assert (repo_dir / "notebooks" / NOTEBOOK.name).is_file()
    assert first["cwd"] == str(repo_dir / "notebooks")
    assert Path(first["course_utils"]).resolve().is_relative_to(repo_dir.resolve()), first["course_utils"]
    # one install, of the clone; pip would install the course package and nothing else (no torch)
    assert first["pip_calls"] == [f"install -q -e {repo_dir}"], first["pip_calls"]
    installs = {item["metadata"]["name"].lower().replace("_", "-") for item in json.loads(report.read_text())["install"]}
    assert installs == {"course-utils"}, installs
    assert "torch" not in installs
    # running the setup cell again changes nothing
    assert second == first
    assert _snapshot(repo_dir) == before and not (repo_dir / "notebooks" / "embedding-vector-search").exists()
    assert subprocess.run(["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout == head
    # and the notebook ran on: its cells after the setup cell printed what they print on a course machine
    outputs = "".join(_stream_text(c) for c in rehearsal.cells)
    assert "doctor: 문제 없음" in outputs and "활성 프로필: offline" in outputs
    assert not any(o.get("output_type") == "error" for c in rehearsal.cells for o in c.get("outputs", []))
