"""The target's declared test dependencies, checked against what its interpreter has installed:
a suite run without them is said to be (a failing WARN check naming what is missing), since its
failures are then the environment's, not the code's (issue 19: this project's own checkout,
installed without its test extras, cited '3 of 77 covering tests fail' as code risk).

Declarations are read from the files a project really uses: flask's `requirements/tests.txt`,
PEP 621 optional dependencies, PEP 735 dependency groups (with include-group), requirements
files that include others; the real run is an in-process Dagster run on a temp Git repository.
"""

from __future__ import annotations

import sys

from codeintel_assets.tools.test_requirements import Declared, declared, unmet
from codeintel_assets_tests.conftest import make_git_repo, write_files
from codeintel_assets_tests.test_testrun_trust import TEST_TABLES, test_steps

PY = "3.11.7"


def test_declared_from_pyproject_groups_and_requirement_files(tmp_path):
    root = make_git_repo(tmp_path / "r", {
        "pyproject.toml": '[project]\nname = "Demo-Pkg"\n'
                          '[project.optional-dependencies]\n'
                          'test = ["pytest>=8", "demo-pkg[extra]", "tomli; python_version < \'3.11\'"]\n'
                          'docs = ["sphinx"]\n'
                          '[dependency-groups]\n'
                          'lint = ["ruff"]\n'
                          'tests = ["hypothesis==6.1", {include-group = "lint"}]\n',
        "requirements/tests.txt": "# pinned by pip-compile\n-r base.txt\n"
                                  "pytest==8.3.5\n    # via -r tests.in\n-e .\n"
                                  "asgiref==3.8.1 ; python_version >= '3.8'\n",
        "requirements/base.txt": "blinker==1.9\n",
    })
    found = {(d.source, d.requirement) for d in declared(str(root), PY)}
    assert found == {
        ("pyproject.toml [project.optional-dependencies] test", "pytest>=8"),
        ("pyproject.toml [dependency-groups] tests", "hypothesis==6.1"),
        ("pyproject.toml [dependency-groups] tests", "ruff"),
        ("requirements/tests.txt", "pytest==8.3.5"),
        ("requirements/tests.txt", "asgiref==3.8.1 ; python_version >= '3.8'"),
        ("requirements/base.txt", "blinker==1.9"),
    }  # the project itself, docs, and a marker false on 3.11 are not test requirements


def test_unmet_names_missing_and_other_versions():
    listed = [Declared("f", "pytest>=8"), Declared("f", "Hypothesis==6.1"),
              Declared("f", "zope.interface"), Declared("g", "pytest>=8")]
    found = unmet(listed, ["3.11.7 (main)", "pytest==7.4.0", "zope-interface==6.0"])
    assert [(u.name, u.installed, u.source) for u in found] == [
        ("pytest", "7.4.0", "f, g"), ("hypothesis", None, "f")]
    assert [str(u) for u in found] == ["pytest>=8 (7.4.0 installed; f, g)",
                                       "Hypothesis==6.1 (not installed; f)"]  # as written


def test_a_run_without_the_declared_test_dependencies_says_so(tmp_path):
    """Said always (a warning, metadata); a failing check only when tests failed or errored,
    which the missing requirement may explain: a suite that passes without it is evidence."""
    missing = "codeintel-absent-test-dependency"
    repo = make_git_repo(tmp_path / "deps", {
        "pyproject.toml": f'[project]\nname = "deps"\n[project.optional-dependencies]\n'
                          f'test = ["pytest", "{missing}>=1.0"]\n',
        "pkg/__init__.py": "",
        "tests/test_a.py": "def test_a():\n    pass\n\n\ndef test_b():\n    pass\n"})
    said = (f"{missing}>=1.0 (not installed; pyproject.toml [project.optional-dependencies] "
            "test)")
    meta, checks, warnings = test_steps(repo, tools=["tests"])
    for table in TEST_TABLES:
        assert checks[table][0], table  # every test passed without it
        assert meta[table]["unmet_test_requirements"] == [said]
    assert any(missing in w and "every test passed" in w for w in warnings), warnings

    write_files(repo, {"tests/test_uses_it.py": "import codeintel_absent_test_dependency\n\n\n"
                                                "def test_c():\n    pass\n"})
    meta, checks, warnings = test_steps(repo, tools=["tests"])
    for table in TEST_TABLES:
        passed, check_meta = checks[table]
        assert not passed, table  # a test module failed to import what it declares
        assert check_meta["measured"] == (
            f"1 declared test requirement not installed in {sys.executable}: {said}")
    assert any(missing in w and "1 tests failed or ended in error" in w for w in warnings), \
        warnings
