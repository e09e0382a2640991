"""The benchmark harness (docs/performance.md): `python -m bench [--quick]`, and the reliability
harnesses `python -m bench.soak` and `python -m bench.hanging_providers`.

The harness reuses the tests' helpers rather than keeping copies: the provider fakes (tests/fakes) and
the process runners (tests/support.py), so tests/ is put on the import path here, once.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
