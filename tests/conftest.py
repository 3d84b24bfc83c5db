import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's content (knowledge/ and faq/), to break on purpose."""
    for folder in ("knowledge", "faq"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


@pytest.fixture(scope="session")
def kb():
    from beian.kb import load_kb

    return load_kb(ROOT)


@pytest.fixture(scope="session")
def matcher(kb):
    """The matcher of the project's content (test modules that need another one define their own)."""
    from beian.matcher import Matcher

    return Matcher.build(kb)


def benchmark_script(name: str):
    """benchmarks/<name>.py as a module: they are scripts, not a package (fit_gate imports fit_classifier)."""
    import importlib.util

    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
