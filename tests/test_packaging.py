"""pyproject.toml and environment.yml install the same things; the design card's packages are all there."""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DESIGN_CARD = ("jupyterlab", "sentence-transformers", "datasets", "faiss-cpu", "fastembed", "qdrant-client",
               "umap-learn", "nbval")


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _pip_section() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d][0]["pip"]
    return [p for p in pip if not p.startswith("-e")]


def _name(req: str) -> str:
    for sep in "<>=!;[ ":
        req = req.split(sep)[0]
    return req.strip().lower()


def test_environment_yml_matches_pyproject() -> None:
    proj = _pyproject()["project"]
    expected = list(proj["dependencies"]) + proj["optional-dependencies"]["offline"] + proj["optional-dependencies"]["dev"]
    assert sorted(_pip_section()) == sorted(expected)


def test_environment_yml_installs_the_package_itself() -> None:
    assert "-e ." in yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"][-1]["pip"]


def test_design_card_packages_are_dependencies_with_lower_bounds() -> None:
    deps = {_name(d): d for d in _pyproject()["project"]["dependencies"]}
    for pkg in DESIGN_CARD:
        assert pkg in deps, f"{pkg} missing from pyproject dependencies"
    for name, req in deps.items():
        assert ">=" in req and "==" not in req, f"{req}: use a lower bound, not an exact pin (Colab)"


def test_torch_is_not_pinned_for_colab_users() -> None:
    deps = [_name(d) for d in _pyproject()["project"]["dependencies"]]
    assert "torch" not in deps


def test_readme_names_the_two_commands_and_ci_calls_the_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "bash run_course.sh" in readme and "bash run_tests.sh" in readme
    assert "bash run_tests.sh" in (REPO / ".ci" / "run").read_text()


def test_lock_pins_every_dependency_within_the_lower_bounds() -> None:
    """requirements-lock.txt (what the committed outputs ran on) covers each requirement and satisfies its bound."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = {}
    for line in (REPO / "requirements-lock.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[canonicalize_name(name)] = version
    proj = _pyproject()["project"]
    for text in list(proj["dependencies"]) + proj["optional-dependencies"]["offline"] + proj["optional-dependencies"]["dev"]:
        req = Requirement(text)
        if req.marker is not None and not Marker(str(req.marker)).evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is not in requirements-lock.txt: run scripts/update_lock.sh"
        assert req.specifier.contains(lock[name], prereleases=True), f"lock has {req.name}=={lock[name]}, needs {req.specifier}"
    assert "torch" not in lock  # installed first by setup_env.sh (COURSE_TORCH_SPEC), never by the lock
