"""Module names per layout (extract/naming.py): every file named, none dropped."""

import sys

from codeintel_assets.extract.naming import ModuleName, module_names


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
