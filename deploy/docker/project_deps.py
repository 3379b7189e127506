"""Print the third-party dependencies declared by the given pyproject.toml files, one per line
(the project's own tensorkart-* packages left out), so an image can install them in a layer of
their own before the source is copied: code changes then reuse the cached dependency layer.

    python project_deps.py core/pyproject.toml services/trainer/pyproject.toml > deps.txt
"""

from __future__ import annotations

import sys
import tomllib


def dependencies(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        with open(path, "rb") as file:
            project = tomllib.load(file)["project"]
        for requirement in project.get("dependencies", []):
            if not requirement.lower().startswith("tensorkart") and requirement not in found:
                found.append(requirement)
    return found


if __name__ == "__main__":
    print("\n".join(dependencies(sys.argv[1:])))
