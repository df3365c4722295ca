"""Module names: every Python file's dotted import name, from its path alone.

The one place a file's module name is computed: core.modules, core.goids/qualnames and every
extractor's `module` column derive from `module_names`. The rule (also in docs/assets.md):

1. Source root. Under a directory named `src` that is not itself a package, or under a
   directory the target's packaging metadata declares (extract/package_roots.py: setuptools
   `package-dir`, hatch `packages`, poetry `from`...), the name is the path relative to the
   innermost such directory (namespace packages included). Elsewhere the
   root is the parent of the top of the file's chain of regular packages (`__init__.py`),
   which is where the file is imported from when that directory is on sys.path (pytest's
   rootdir/conftest mode, scripts, `setup.py`): `tests/test_x.py` -> `test_x`.
2. PEP 420 namespace directories. A directory without `__init__` is taken as a namespace
   package portion, and the name climbs through it, when one of its direct children (a
   package or a module) would otherwise be named like a standard-library module
   (`sys.stdlib_module_names`) and the directory itself is a plain identifier that is no
   stdlib name and no vendoring/source root (`src`, `lib`, `_vendor`, `vendor`, `vendored`,
   `_vendored`, `site-packages`, `third_party`). So `setuptools/_vendor/jaraco/functools/
   __init__.py` is `jaraco.functools`, never `functools`. A directory with three or more
   stdlib-named children that are most of its children is a copy of the standard library
   itself (CPython's `Lib/`, typeshed's `stdlib/`) and is not climbed.
3. Collisions. Where two files still get one name, the one Python imports keeps it (a
   package over a module, a `.py` over a `.pyi` stub, then the shallower and alphabetically
   first path); every other gets `<name>@<rel_path>` (name_status 'disambiguated'), so no
   file is dropped and (repo, module) stays a key.
4. A name with a part that is not a Python identifier (`text.show-newlines`) keeps the
   path-derived string with name_status 'invalid': no import can spell it, so import
   resolution never uses it.
"""

from __future__ import annotations

import keyword
import posixpath
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from codeintel_assets.extract.pysource import module_is_package

# Directories that are put on sys.path (or hold a tree of roots) rather than imported:
# the name never climbs through them.
ROOT_DIR_NAMES = frozenset({"src", "lib", "_vendor", "vendor", "vendored", "_vendored",
                            "site-packages", "third_party"})
STDLIB = frozenset(sys.stdlib_module_names)

IMPORT, DISAMBIGUATED, INVALID = "import", "disambiguated", "invalid"


@dataclass(frozen=True)
class ModuleName:
    """A Python file's module name. `module`: dotted name, unique per repository;
    `source_root`: rel_path of the directory it is relative to ('' = repository root);
    `status`: 'import' (Python imports the file by this name), 'disambiguated' (another file
    has the plain name; `module` is `<name>@<rel_path>`) or 'invalid' (a part is not an
    identifier)."""

    module: str
    source_root: str
    status: str


def _identifier(part: str) -> bool:
    return part.isidentifier() and not keyword.iskeyword(part)


def _stem(rel_path: str) -> str:
    """The name a file or its package directory contributes: `a/b/__init__.py` -> `b`."""
    if module_is_package(rel_path):
        return posixpath.basename(posixpath.dirname(rel_path))
    return posixpath.basename(rel_path).rsplit(".", 1)[0]


def _namespace_dirs(python_paths: Sequence[str], init_dirs: set[str]) -> set[str]:
    """Directories without `__init__` taken as PEP 420 namespace portions (rule 2)."""
    children: dict[str, set[str]] = defaultdict(set)  # dir -> names of its packages/modules
    for path in python_paths:
        directory = posixpath.dirname(path)
        if module_is_package(path):
            parent = posixpath.dirname(directory)
            if parent not in init_dirs:
                children[parent].add(posixpath.basename(directory))
        elif directory not in init_dirs:
            children[directory].add(_stem(path))
    out = set()
    for directory, names in children.items():
        name = posixpath.basename(directory)
        stdlib = sum(1 for n in names if n in STDLIB)
        stdlib_copy = stdlib >= 3 and stdlib * 2 > len(names)
        if (directory and stdlib and not stdlib_copy and _identifier(name)
                and name not in STDLIB and name not in ROOT_DIR_NAMES):
            out.add(directory)
    return out


def _source_root(directory: str, init_dirs: set[str], namespace_dirs: set[str],
                 declared: Sequence[str]) -> str:
    parts = directory.split("/") if directory else []
    src_roots = ["/".join(parts[: i + 1]) for i, p in enumerate(parts) if p == "src"]
    src_roots = [r for r in src_roots if r not in init_dirs]  # a package named src is not
    roots = src_roots + [r for r in declared if r not in init_dirs
                         and (directory == r or directory.startswith(r + "/"))]
    if roots:
        return max(roots, key=len)  # the innermost
    root = directory
    while root and (root in init_dirs or root in namespace_dirs):
        root = posixpath.dirname(root)
    return root


def module_names(python_paths: Sequence[str], declared_roots: Sequence[str] = ()
                 ) -> dict[str, ModuleName]:
    """rel_path -> ModuleName for every Python file of `python_paths` (rules in the module
    docstring); `declared_roots` are the root-relative directories the target's packaging
    metadata declares (package_roots.declared_source_roots). Names are unique across the
    result; the result depends on the whole set of paths (a new file can take a name, or
    reveal a namespace directory)."""
    init_dirs = {posixpath.dirname(p) for p in python_paths if module_is_package(p)}
    namespace_dirs = _namespace_dirs(python_paths, init_dirs)
    plain: dict[str, tuple[str, str]] = {}
    for path in python_paths:
        root = _source_root(posixpath.dirname(path), init_dirs, namespace_dirs,
                            declared_roots)
        rel = path[len(root) + 1:] if root else path
        dotted = rel.rsplit(".", 1)[0].split("/")
        if dotted[-1] == "__init__" and len(dotted) > 1:
            dotted = dotted[:-1]
        plain[path] = (".".join(dotted), root)

    def priority(path: str) -> tuple:
        # Python prefers a package over a module and a .py over a .pyi stub; then the
        # shallower path (the first root on a typical sys.path), then the alphabetical first.
        return (not module_is_package(path), path.endswith(".pyi"), path.count("/"), path)

    taken: set[str] = set()
    out = {}
    for path in sorted(python_paths, key=priority):
        name, root = plain[path]
        valid = all(_identifier(part) for part in name.split("."))
        if name in taken:
            out[path] = ModuleName(f"{name}@{path}", root, DISAMBIGUATED if valid else INVALID)
        else:
            taken.add(name)
            out[path] = ModuleName(name, root, IMPORT if valid else INVALID)
    return {path: out[path] for path in python_paths}


# ---- stubs -------------------------------------------------------------------------------------
# A `.pyi` beside the `.py` it describes never runs: Python imports the `.py`, pyright reads the
# stub. Rule 3 gives the `.py` the plain name, so such a stub is exactly a `.pyi` whose name is
# disambiguated; a stub that keeps its plain name (a stub-only package, the stub of a C
# extension) is the only description of its code there is.


def is_stub(rel_path: str) -> bool:
    """Whether the file is a `.pyi` stub (core.file_state.is_stub, core.goids.is_stub)."""
    return rel_path.endswith(".pyi")


def shadowed_stub(rel_path: str, module: str) -> bool:
    """Whether the file is a `.pyi` stub that another file implements under its name (a `.py`
    or package beside it): core.goids.shadowed_stub. Depends on `module` (ModuleName.module),
    so it changes exactly when the file's module name does."""
    return is_stub(rel_path) and module.endswith(f"@{rel_path}")


def implementation_name(qualname: str, module: str) -> str:
    """The dotted name at which Python finds what a shadowed stub's definition describes:
    its qualname under the plain module name, redefinition suffixes (#N, #overloadK) dropped
    (`pkg@pkg/__init__.pyi.define#2` of module `pkg@pkg/__init__.pyi` -> `pkg.define`).
    Resolving it through the implementation's bindings (re-exports) is the call linker's."""
    plain = module.rsplit("@", 1)[0]
    rest = qualname[len(module):] if qualname.startswith(module) else ""
    return plain + ".".join(part.split("#", 1)[0] for part in rest.split("."))
