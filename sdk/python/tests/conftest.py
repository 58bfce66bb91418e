import os
from pathlib import Path

import pytest

CONFORMANCE = Path(
    os.environ.get(
        "AUTOSCOPE_CONFORMANCE", Path(__file__).resolve().parents[3] / "conformance" / "v1"
    )
)


@pytest.fixture
def conformance_dir() -> Path:
    return CONFORMANCE
