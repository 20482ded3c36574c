"""Execute the course notebooks headlessly: time table, output regeneration, and the run-twice check (course tooling, no chapter).

``python -m course_utils run-notebooks``           run every notebook into a scratch folder, print times
``python -m course_utils run-notebooks --inplace`` regenerate the committed outputs (offline profile)
``python -m course_utils run-twice``               run each notebook twice in one kernel (re-run safety)
``python -m course_utils run-solutions``           run each notebook, then its exercise solutions, with their times
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .config import COLAB_DIR, REPO_ROOT, REPO_URL

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
SKIP_MARK = "NBVAL_SKIP"


def list_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered course notebooks (``NN_*.ipynb``), in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


@dataclass
class Result:
    path: Path
    seconds: float
    error: str | None = None
    solution_seconds: dict[str, float] | None = None
    notebook: Any = field(default=None, repr=False)
    """The executed notebook (``nbformat.NotebookNode``, outputs included), e.g. to read the banners it printed."""


def _client(nb, path: Path, timeout: int):  # type: ignore[no-untyped-def]
    from nbclient import NotebookClient

    return NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                          resources={"metadata": {"path": str(path.parent)}})


def _code_cells(nb):  # type: ignore[no-untyped-def]
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and SKIP_MARK not in c.source]


def execute(path: Path, *, inplace: bool = False, timeout: int = 600, rounds: int = 1,
            solutions: bool = False) -> Result:
    """Run every code cell of ``path`` (``rounds`` times in one kernel); write outputs back if ``inplace``.

    ``solutions``: then run each exercise solution (:func:`course_utils.truth.solutions`) in the same kernel and
    time it; solutions are never written into the notebook.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from .truth import solutions as find_solutions

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = _client(nb, path, timeout)
    start = time.perf_counter()
    error = None
    timed: dict[str, float] | None = {} if solutions else None
    try:
        with client.setup_kernel():
            for _ in range(rounds):
                client.execution_count = 0
                for index, cell in _code_cells(nb):
                    client.execute_cell(cell, index)
            for sol in find_solutions(path) if solutions else ():
                cell = nbformat.v4.new_code_cell(sol.code)
                t0 = time.perf_counter()
                try:
                    client.execute_cell(cell, len(nb.cells) - 1)
                finally:
                    timed[f"풀이 {sol.number} ({sol.label})"] = time.perf_counter() - t0  # type: ignore[index]
    except CellExecutionError as exc:
        error = str(exc).splitlines()[-1] if str(exc) else repr(exc)
        error = f"{error}\n{str(exc)[:2000]}"
    seconds = time.perf_counter() - start
    if inplace and error is None:
        nbformat.write(nb, path)
    return Result(path, seconds, error, timed, nb)


def run_all(paths: Sequence[Path] | None = None, *, inplace: bool = False, rounds: int = 1,
            solutions: bool = False) -> list[Result]:
    """Run notebooks one after another and print a time table (and errors, and each solution's time)."""
    os.environ.setdefault("PYTHONHASHSEED", "0")
    results = []
    for path in paths or list_notebooks():
        print(f"실행 중: {path.name} ...", flush=True)
        res = execute(Path(path), inplace=inplace, rounds=rounds, solutions=solutions)
        print(f"  {'실패' if res.error else '완료'} {res.seconds:6.1f} s", flush=True)
        for name, sec in (res.solution_seconds or {}).items():
            print(f"    {name}: {sec:.1f} s", flush=True)
        if res.error:
            print("  " + res.error.replace("\n", "\n  "), flush=True)
        results.append(res)
    print("\n| notebook | seconds | solutions (s) | status |\n|---|---:|---:|---|")
    for r in results:
        sol = f"{sum(r.solution_seconds.values()):.1f}" if r.solution_seconds is not None else "-"
        print(f"| {r.path.name} | {r.seconds:.1f} | {sol} | {'FAIL' if r.error else 'ok'} |")
    print(f"| **합계** | {sum(r.seconds for r in results):.1f} | | |")
    return results


# ------------------------------------------------------------------------------------------ Colab cells


def colab_url(notebook: str | Path) -> str:
    """The "Open in Colab" link of a notebook, from :data:`course_utils.config.REPO_URL`."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{Path(notebook).name}"


def colab_setup_source() -> str:
    """The setup cell every notebook starts with: on Colab it clones the repository into :data:`COLAB_DIR` (once),
    installs the package (Colab's torch stays), and moves into ``notebooks/``; elsewhere it does nothing."""
    return f"""# Colab에서만 실행됩니다: 저장소를 받고 코스 패키지를 설치합니다. 로컬(run_course.sh)에서는 아무 일도 하지 않습니다.
import os
import sys
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm의 위젯 안내 경고(진행 막대는 텍스트로 나옴)
IN_COLAB = "google.colab" in sys.modules
REPO_DIR = "{COLAB_DIR}"  # 절대 경로: 이 셀을 다시 실행해도 저장소를 두 번 받지 않음
if IN_COLAB and not os.path.isdir(REPO_DIR):
    !git clone -q --depth 1 {REPO_URL}.git {{REPO_DIR}}
    %pip install -q -e {{REPO_DIR}}
if IN_COLAB:
    if REPO_DIR not in sys.path:
        sys.path.insert(0, REPO_DIR)
    os.chdir(os.path.join(REPO_DIR, "notebooks"))"""


_BADGE = re.compile(r"\(https://colab\.research\.google\.com/github/[^)]*\)")


def sync_colab_cells(paths: Sequence[Path] | None = None) -> list[Path]:
    """Rewrite every notebook's Colab badge link and setup cell from :data:`REPO_URL`; the notebooks that changed."""
    import nbformat

    changed = []
    for path in paths or list_notebooks():
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        nb.cells[0].source = _BADGE.sub(f"({colab_url(path)})", nb.cells[0].source)
        setup = next(c for c in nb.cells if c.cell_type == "code")
        setup.source = colab_setup_source()
        if nbformat.writes(nb) != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed
