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
