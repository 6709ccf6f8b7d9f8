"""``python -m paramcheck``: the ``paramcheck`` command, for when its script is not on PATH.

Calls the same ``main`` as the console script of ``pyproject.toml``'s ``[project.scripts]``
(``tests/test_main.py`` checks that the two stay the same).
"""

from paramcheck._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
