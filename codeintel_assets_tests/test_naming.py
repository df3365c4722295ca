"""Module names per layout (extract/naming.py): every file named, none dropped."""

import sys

import pytest

from codeintel_assets.extract.naming import (
    ModuleName,
    implementation_name,
    module_names,
    shadowed_stub,
)
from codeintel_assets.extract.package_roots import declared_source_roots
from codeintel_assets.extract.scan import list_tree
from codeintel_assets_tests.conftest import make_git_repo, write_files


def names(paths):
    return {p: (n.module, n.source_root, n.status) for p, n in module_names(paths).items()}


def test_regular_src_and_loose_layouts():
    paths = [
        "src/pkg/__init__.py", "src/pkg/a.py", "src/nspkg/mod.py",
        "django/__init__.py", "django/db/__init__.py", "django/db/models.py",
        "tests/test_x.py", "tests/admin/__init__.py", "tests/admin/tests.py",
        "setup.py", "libs/lib/src/deep/x.py", "stubs/s.pyi",
        "pkg2/__init__.py", "pkg2/src/__init__.py", "pkg2/src/y.py",
    ]
    assert {p: n[:2] for p, n in names(paths).items()} == {
        "src/pkg/__init__.py": ("pkg", "src"),
        "src/pkg/a.py": ("pkg.a", "src"),
        "src/nspkg/mod.py": ("nspkg.mod", "src"),
        "django/__init__.py": ("django", ""),
        "django/db/__init__.py": ("django.db", ""),
        "django/db/models.py": ("django.db.models", ""),
        "tests/test_x.py": ("test_x", "tests"),
        "tests/admin/__init__.py": ("admin", "tests"),
        "tests/admin/tests.py": ("admin.tests", "tests"),
        "setup.py": ("setup", ""),
        "libs/lib/src/deep/x.py": ("deep.x", "libs/lib/src"),
        "stubs/s.pyi": ("s", "stubs"),
        "pkg2/__init__.py": ("pkg2", ""),
        "pkg2/src/__init__.py": ("pkg2.src", ""),  # a package named src is just a package
        "pkg2/src/y.py": ("pkg2.src.y", ""),
    }
    assert {n[2] for n in names(paths).values()} == {"import"}


def test_namespace_package_named_like_the_standard_library():
    # setuptools' vendored jaraco: `_vendor` is put on sys.path, `jaraco` has no __init__.py.
    v = "setuptools/_vendor/"
    paths = ["setuptools/__init__.py", "setuptools/build_meta.py",
             v + "jaraco/functools/__init__.py", v + "jaraco/collections/__init__.py",
             v + "jaraco/context.py", v + "jaraco/text/__init__.py",
             v + "jaraco/text/show-newlines.py", v + "backports/tarfile/__init__.py",
             v + "more_itertools/__init__.py", v + "typing_extensions.py"]
    got = names(paths)
    assert got[v + "jaraco/functools/__init__.py"] == ("jaraco.functools", v[:-1], "import")
    assert got[v + "jaraco/collections/__init__.py"][0] == "jaraco.collections"
    assert got[v + "jaraco/context.py"][0] == "jaraco.context"
    assert got[v + "jaraco/text/__init__.py"][0] == "jaraco.text"
    assert got[v + "backports/tarfile/__init__.py"][0] == "backports.tarfile"
    assert got[v + "more_itertools/__init__.py"][0] == "more_itertools"
    assert got[v + "typing_extensions.py"][0] == "typing_extensions"
    assert got["setuptools/build_meta.py"][0] == "setuptools.build_meta"
    # No import can spell it: flagged, not invented.
    assert got[v + "jaraco/text/show-newlines.py"] == ("jaraco.text.show-newlines", v[:-1],
                                                       "invalid")
    assert not {n[0] for n in got.values()} & set(sys.stdlib_module_names)


def test_a_copy_of_the_standard_library_keeps_its_names():
    paths = ["Lib/functools.py", "Lib/os.py", "Lib/json/__init__.py", "Lib/my_helper.py"]
    assert {n[0] for n in names(paths).values()} == {"functools", "os", "json", "my_helper"}


def test_colliding_names_all_keep_a_row():
    paths = ["setup.py", "tests/data/setup.py", "conftest.py", "testing/conftest.py",
             "testing/python/conftest.py", "pkg/__init__.py", "pkg.py", "pkg/__init__.pyi",
             "mod.py", "mod.pyi"]
    got = names(paths)
    assert len(got) == len(paths) and len({n[0] for n in got.values()}) == len(paths)
    assert got["setup.py"] == ("setup", "", "import")  # the shallower path wins
    assert got["tests/data/setup.py"] == ("setup@tests/data/setup.py", "tests/data",
                                          "disambiguated")
    assert got["conftest.py"][0] == "conftest"
    assert got["testing/conftest.py"][0] == "conftest@testing/conftest.py"
    assert got["testing/python/conftest.py"][0] == "conftest@testing/python/conftest.py"
    assert got["pkg/__init__.py"][0] == "pkg"  # a package over a module, .py over .pyi
    assert got["pkg.py"][2] == got["pkg/__init__.pyi"][2] == "disambiguated"
    assert got["mod.py"][0] == "mod" and got["mod.pyi"][0] == "mod@mod.pyi"
    assert module_names(["a.py"]) == {"a.py": ModuleName("a", "", "import")}


def test_a_stub_beside_its_py_is_shadowed_a_stub_alone_is_not():
    paths = ["src/pkg/__init__.py", "src/pkg/__init__.pyi", "src/pkg/_impl.py",
             "src/pkg/_impl.pyi", "src/pkg/_speedups.pyi", "typed/__init__.pyi"]
    got = {p: shadowed_stub(p, n.module) for p, n in module_names(paths).items()}
    assert got == {"src/pkg/__init__.py": False, "src/pkg/__init__.pyi": True,
                   "src/pkg/_impl.py": False, "src/pkg/_impl.pyi": True,
                   "src/pkg/_speedups.pyi": False,  # a C extension's stub: all there is
                   "typed/__init__.pyi": False}
    stub = module_names(paths)["src/pkg/__init__.pyi"].module
    assert stub == "pkg@src/pkg/__init__.pyi"
    assert implementation_name(f"{stub}.Thing.size#2", stub) == "pkg.Thing.size"
    assert implementation_name(stub, stub) == "pkg"


# ---- the scan: the checkout's ignore rules, every file named ---------------------------------

V = "pkg/_vendor/"
LAYOUT = {
    ".gitignore": "/build/\n/dist/\n*.egg-info/\n",
    "pyproject.toml": "[project]\nname = 'pkg'\n",
    "setup.py": "", "tests/data/setup.py": "",
    "conftest.py": "", "tests/conftest.py": "", "testing/conftest.py": "",
    "pkg/__init__.py": "", "pkg/build/__init__.py": "", "pkg/build/backend.py": "",
    V + "jaraco/functools/__init__.py": "", V + "jaraco/text/__init__.py": "",
    V + "jaraco/text/show-newlines.py": "",
    "gone.py": "",
}


def test_repo_scan_follows_the_checkouts_ignore_rules_and_names_every_file(tmp_path):
    from codeintel_assets.run import materialize
    from codeintel_assets.storage.gateway import StorageGateway

    repo = make_git_repo(tmp_path / "repo", LAYOUT)
    (repo / "gone.py").unlink()  # tracked, deleted from the work tree
    write_files(repo, {"build/lib/pkg/__init__.py": "", "dist/x.py": "",   # ignored output
                       "new.py": "",                                       # untracked, kept
                       ".venv/pyvenv.cfg": "home = /usr\n", ".venv/lib/site.py": "",
                       ".codeintel/x.py": ""})
    db = tmp_path / "ci.duckdb"
    result = materialize("core/file_state,core/modules", target=str(repo), db=str(db))
    assert result.success
    got = {r["rel_path"]: (r["module"], r["name_status"]) for r in StorageGateway(db).query(
        "SELECT rel_path, module, name_status FROM core.modules").to_pylist()}
    assert got == {
        "setup.py": ("setup", "import"),
        "tests/data/setup.py": ("setup@tests/data/setup.py", "disambiguated"),
        "conftest.py": ("conftest", "import"),
        "testing/conftest.py": ("conftest@testing/conftest.py", "disambiguated"),
        "tests/conftest.py": ("conftest@tests/conftest.py", "disambiguated"),
        "pkg/__init__.py": ("pkg", "import"),
        "pkg/build/__init__.py": ("pkg.build", "import"),
        "pkg/build/backend.py": ("pkg.build.backend", "import"),
        V + "jaraco/functools/__init__.py": ("jaraco.functools", "import"),
        V + "jaraco/text/__init__.py": ("jaraco.text", "import"),
        V + "jaraco/text/show-newlines.py": ("jaraco.text.show-newlines", "invalid"),
        "new.py": ("new", "import"),
    }
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.path == ["core", "modules"]]
    metadata = event.materialization.metadata
    assert metadata["file_list"].value == "git ls-files"
    assert metadata["left_out"].value == {"ignored": 2, "deleted": 1, "excluded": 1,
                                          "virtualenv": 2}
    paths = {k: [p["rel_path"] for p in v] for k, v in metadata["left_out_paths"].value.items()}
    assert paths == {"ignored": ["build/", "dist/"], "deleted": ["gone.py"],
                     "excluded": [".codeintel/x.py"],
                     "virtualenv": [".venv/lib/site.py", ".venv/pyvenv.cfg"]}


def test_without_git_only_top_level_build_and_dist_are_left_out(tmp_path):
    write_files(tmp_path, {k: v for k, v in LAYOUT.items() if k != "gone.py"})
    write_files(tmp_path, {"build/lib/pkg/__init__.py": "", "dist/x.py": ""})
    listing = list_tree(tmp_path, None)
    assert "pkg/build/backend.py" in listing.paths and not any(
        p.startswith(("build/", "dist/")) for p in listing.paths)
    assert [(s.rel_path, s.kind) for s in listing.skipped] == [("build/", "excluded"),
                                                              ("dist/", "excluded")]


# ---- source roots the packaging metadata declares ------------------------------------------

@pytest.mark.parametrize(("pyproject", "roots"), [
    ('[tool.setuptools]\npackage-dir = {"" = "lib"}\n', ("lib",)),
    ('[tool.setuptools.package-dir]\nmypkg = "code/mypkg"\n"a.b" = "x/a/b"\nrenamed = "code/impl"\n',
     ("code", "x")),
    ('[tool.setuptools.packages.find]\nwhere = ["code", ".", "../out"]\n', ("code",)),
    ('[tool.hatch.build.targets.wheel]\npackages = ["code/mypkg", "top"]\n', ("code",)),
    ('[tool.hatch.build.targets.wheel]\nsources = ["code"]\n', ("code",)),
    ('[tool.hatch.build]\nsources = {"code" = "", "lib/mypkg" = "mypkg", "s/x" = "y"}\n',
     ("code", "lib")),
    ('[tool.poetry]\npackages = [{include = "mypkg", from = "code"}, {include = "b"}]\n',
     ("code",)),
    ('[tool.pdm.build]\npackage-dir = "code"\n', ("code",)),
    ('[project]\nname = "plain"\n', ()),
    ("[tool.setuptools\nnot toml", ()),
])
def test_declared_source_roots(tmp_path, pyproject, roots):
    (tmp_path / "pyproject.toml").write_text(pyproject)
    assert declared_source_roots(tmp_path) == roots


def test_a_package_dir_names_modules_from_its_root(tmp_path):
    """`mypkg` lives in `code/` as a PEP 420 namespace package (no __init__.py): only the
    declared package-dir tells that its files are `mypkg.*`, not `engine` and `core.*`."""
    from codeintel_assets.run import materialize
    from codeintel_assets.storage.gateway import StorageGateway

    repo = make_git_repo(tmp_path / "repo", {
        "pyproject.toml": '[project]\nname = "mypkg"\n\n[tool.setuptools.package-dir]\n'
                          'mypkg = "code/mypkg"\n',
        "code/mypkg/engine.py": "def run():\n    pass\n", "code/mypkg/core/__init__.py": "",
        "code/mypkg/core/rules.py": "", "tests/test_engine.py": ""})
    db = tmp_path / "ci.duckdb"
    assert materialize("core/file_state,core/modules,core/ast_nodes,core/goids", target=str(repo),
                       db=str(db), tools=[]).success
    gateway = StorageGateway(db)
    got = {r["rel_path"]: (r["module"], r["source_root"]) for r in gateway.query(
        "SELECT rel_path, module, source_root FROM core.modules").to_pylist()}
    # the file-level steps name files as core.modules does
    assert gateway.query("SELECT qualname FROM core.goids WHERE kind = 'function'"
                         ).to_pylist() == [{"qualname": "mypkg.engine.run"}]
    assert got == {"code/mypkg/engine.py": ("mypkg.engine", "code"),
                   "code/mypkg/core/__init__.py": ("mypkg.core", "code"),
                   "code/mypkg/core/rules.py": ("mypkg.core.rules", "code"),
                   "tests/test_engine.py": ("test_engine", "tests")}
