"""Build the API reference from the docstrings: ``python docs/api.py [OUTPUT_DIR]`` (default ``build/api``).

Why pdoc: it reads the docstrings and type annotations as they are (no markup of its own to learn, no
configuration), renders every module of the package, and is well kept. Any warning it raises -- a name in
``__all__`` that does not resolve, a broken cross-reference -- is an error here, and so is a public name
without a docstring (`undocumented`), so the reference cannot rot quietly (`tests/test_docs.py` runs this).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pdoc
import pdoc.doc

# The public surface: the package (what ``from eventflow import ...`` gives, with `eventflow.retry` and
# `eventflow.waits`), the test toolkit, the backends, the views and the local service.
MODULES = ["eventflow", "eventflow.testing", "eventflow.backends", "eventflow.views", "eventflow.local"]


def _resolve_lazy_names() -> None:
    """Make names resolvable where pdoc looks for them.

    Packages load some exported names on first use (``eventflow.AsyncDurableContext``: no asyncio at
    cold start), and pdoc reads a module's namespace: put each name in ``__all__`` there. A
    `typing.NamedTuple`'s generated ``__new__`` claims a module that does not exist
    (``namedtuple_StepContext``), so its annotations would be read without any globals: point it at
    the module that defines the class."""
    import importlib
    import pkgutil

    import eventflow

    for name in MODULES:
        module = importlib.import_module(name)
        for exported in getattr(module, "__all__", ()):
            if exported not in vars(module):
                vars(module)[exported] = getattr(module, exported)  # loads it as `import` would
    for info in pkgutil.walk_packages(eventflow.__path__, "eventflow."):
        if info.name.endswith("__main__"):
            continue  # runs the command line
        module = importlib.import_module(info.name)
        for value in list(vars(module).values()):
            new = getattr(value, "__new__", None)
            named_tuple = isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields")
            if named_tuple and getattr(new, "__module__", "").startswith("namedtuple_"):
                new.__module__ = value.__module__


def undocumented(module: pdoc.doc.Module) -> list[str]:
    """The public functions, classes and methods of ``module`` and its submodules without a docstring.

    Public as the reference shows it: a module's ``__all__`` if it has one, else its names without a
    leading underscore; a class's own members without one (what it inherits from outside eventflow,
    say pydantic's, is documented there). Variables may go without (many are self-explanatory)."""
    missing: list[str] = []

    def check(item: pdoc.doc.Doc) -> None:  # type: ignore[type-arg]
        if not isinstance(item, pdoc.doc.Variable) and not item.docstring.strip():
            missing.append(item.fullname)

    def walk_class(cls: pdoc.doc.Class) -> None:
        for name, member in cls.members.items():
            if name.startswith("_") or not member.taken_from[0].startswith("eventflow"):
                continue
            check(member)

    def walk(mod: pdoc.doc.Module) -> None:
        check(mod)
        exported = getattr(mod.obj, "__all__", None)
        for name, member in mod.members.items():
            public = name in exported if exported is not None else not name.startswith("_")
            if not public or isinstance(member, pdoc.doc.Module):
                continue
            if member.taken_from[0] != mod.modulename and exported is None:
                continue  # imported from elsewhere: documented where it is defined
            check(member)
            if isinstance(member, pdoc.doc.Class):
                walk_class(member)
        for sub in mod.submodules:
            walk(sub)

    walk(module)
    return sorted(set(missing))


def build(output: Path) -> list[str]:
    """Render the reference into ``output``; returns the undocumented public names (empty: all good)."""
    _resolve_lazy_names()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pdoc's warnings are errors
        pdoc.render.configure(docformat="markdown", show_source=False)
        pdoc.pdoc(*MODULES, output_directory=output)
        found = {name for module in MODULES for name in undocumented(pdoc.doc.Module.from_name(module))}
        return sorted(found)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "build/api")
    missing = build(target)
    for name in missing:
        print(f"undocumented: {name}", file=sys.stderr)
    note = f"; {len(missing)} public names undocumented" if missing else ""
    print(f"API reference written to {target}{note}")
    sys.exit(1 if missing else 0)
