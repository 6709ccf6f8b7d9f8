"""pytest configuration of the pytest-benchmark suite (``tox -e bench``).

asv imports every module of this package, this one included, in environments without
pytest: nothing here may import it.
"""

from __future__ import annotations

import importlib.util

# Without pytest-benchmark (a bare `pytest` from the repository root with only the `test`
# extra installed) the suite would fail on the missing `benchmark` fixture: leave it out.
collect_ignore_glob = [] if importlib.util.find_spec("pytest_benchmark") else ["test_*.py"]
