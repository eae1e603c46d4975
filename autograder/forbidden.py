"""Static scan of student code for library convolutions, forbidden libraries and obfuscation.

A forbidden library is flagged where it is used, not where it is imported: an unused
`import tensorflow as tf` costs nothing (in the sandbox it gives a stand-in whose every use fails).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ._compat import parse_ast

#: Attribute names that are a library's convolution (or the FFT route to one).
LIBRARY_CONVOLUTIONS: frozenset[str] = frozenset(
    {
        "conv1d",
        "conv2d",
        "conv3d",
        "convolution",
        "depthwise_conv2d",
        "separable_conv2d",
        "atrous_conv2d",
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "correlate",
        "correlate1d",
        "correlate2d",
        "convolve",
        "convolve1d",
        "convolve2d",
        "fftconvolve",
        "oaconvolve",
        "filter2D",
        "fft",
        "fft2",
        "rfft2",
        "ifft2",
        "irfft2",
    }
)
#: Names whose mere use hides what code runs; a by-hand convolution never needs them.
OBFUSCATION_NAMES: frozenset[str] = frozenset(
    {"__import__", "exec", "eval", "compile", "vars", "globals", "locals", "__builtins__"}
)
OBFUSCATION_ATTRIBUTES: frozenset[str] = frozenset(
    {"__dict__", "__builtins__", "__subclasses__", "__getattribute__", "__globals__", "__code__"}
    # frames, closures and the import machinery: the way to the grader's own checks
    | {"__closure__", "cell_contents", "f_back", "f_globals", "f_locals", "f_trace"}
    | {"f_trace_lines", "tb_frame", "gi_frame", "_getframe", "meta_path", "path_hooks"}
)
OBFUSCATION_MODULES: frozenset[str] = frozenset(
    {"importlib", "ctypes", "marshal", "pickle", "base64", "codecs", "imp", "builtins"}
)
DYNAMIC_ATTRIBUTE_CALLS: frozenset[str] = frozenset({"getattr", "setattr", "delattr", "hasattr"})

DO_IT_YOURSELF = "this exercise asks you to write the sliding window yourself"
HIDDEN = "code that hides what it runs is not accepted in graded cells"


@dataclass(frozen=True)
class Finding:
    """One suspicious spot in the student's code."""

    line: int
    what: str  # e.g. "np.convolve", "import tensorflow", "eval"
    message: str  # for the student, starting with "line N: "


def _dotted(node: ast.expr) -> str | None:
    """`np.lib.stride_tricks` for an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _matches(module: str, forbidden: tuple[str, ...]) -> str | None:
    for name in forbidden:
        if module == name or module.startswith(name + "."):
            return name
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(
        self, forbidden_modules: tuple[str, ...], own_names: set[str], bound: dict[str, str]
    ) -> None:
        self.forbidden = forbidden_modules
        self.own = own_names
        self.bound = bound  # name -> forbidden module it stands for (tf -> tensorflow)
        self.findings: list[Finding] = []

    def add(self, node: ast.AST, what: str, why: str) -> None:
        line = getattr(node, "lineno", 0)
        self.findings.append(Finding(line, what, f"line {line}: {what} {why}"))

    def _import(self, node: ast.AST, module: str) -> None:
        # Importing a forbidden library costs nothing by itself: only its use is a finding.
        if not _matches(module, self.forbidden) and module.split(".")[0] in OBFUSCATION_MODULES:
            self.add(node, f"import {module}", f"is not needed for a convolution; {HIDDEN}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0:
            self._import(node, module)
            for alias in node.names:
                if alias.name in LIBRARY_CONVOLUTIONS and not _matches(module, self.forbidden):
                    self.add(
                        node,
                        f"from {module} import {alias.name}",
                        f"is a library convolution; {DO_IT_YOURSELF}",
                    )

    def _use(self, node: ast.expr, dotted: str) -> bool:
        root = dotted.split(".")[0]
        library = self.bound.get(root)
        if library is None or root in self.own:
            return False
        self.add(
            node,
            dotted,
            f"uses {library}, which is not allowed in this lab; {DO_IT_YOURSELF}",
        )
        return True

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _dotted(node)
        if chain is not None and self._use(node, chain):
            return  # one finding per chain: `tf.nn.conv2d`, not also `tf.nn` and `tf`
        dotted = chain or ast.unparse(node)[:60]
        if node.attr in LIBRARY_CONVOLUTIONS:
            # `self.conv2d` or `my_module.conv2d` on the student's own object is theirs.
            root = dotted.split(".")[0]
            if root not in self.own or root in ("np", "numpy"):
                self.add(node, dotted, f"is a library convolution; {DO_IT_YOURSELF}")
                if chain is not None:
                    return  # one finding per chain: not again for `np.fft` in `np.fft.fft2`
        elif node.attr in OBFUSCATION_ATTRIBUTES:
            self.add(node, dotted, f"reaches into Python internals; {HIDDEN}")
        elif dotted == "sys.modules":
            self.add(node, dotted, f"reaches into loaded modules; {HIDDEN}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and self._use(node, node.id):
            return
        if node.id in OBFUSCATION_NAMES and node.id not in self.own:
            self.add(node, node.id, f"runs or looks up code by name; {HIDDEN}")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in DYNAMIC_ATTRIBUTE_CALLS:
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.add(
                    node,
                    f"{func.id} with a computed name",
                    f"hides which attribute is used; {HIDDEN}",
                )
            elif name.value in LIBRARY_CONVOLUTIONS:
                self.add(
                    node,
                    f"{func.id}(..., {name.value!r})",
                    f"is a library convolution; {DO_IT_YOURSELF}",
                )
        dotted = _dotted(func) if isinstance(func, ast.Attribute) else None
        if dotted and dotted.split(".")[0] in ("base64", "codecs") and "decode" in dotted:
            self.add(node, dotted, f"decodes hidden text; {HIDDEN}")
        self.generic_visit(node)


def _own_names(tree: ast.Module) -> set[str]:
    """Names the student defined (functions, classes, assignments, parameters) anywhere."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            own.add(node.name)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
    return own


def _imported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _bound_names(tree: ast.Module, forbidden: tuple[str, ...]) -> dict[str, str]:
    """Names that imports bind to a forbidden library: {"tf": "tensorflow", "signal": ...}."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                library = _matches(alias.name, forbidden)
                if library:
                    name = alias.asname or alias.name.split(".")[0]
                    bound[name] = alias.name if alias.asname else library
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                library = _matches(node.module, forbidden) or _matches(full, forbidden)
                if library:
                    bound[alias.asname or alias.name] = full
    return bound


def scan(code: str, *, forbidden_modules: tuple[str, ...]) -> list[Finding]:
    """Findings in `code`, sorted by line; a syntax error gives none (loading reports it)."""
    try:
        tree = parse_ast(code)
    except (SyntaxError, ValueError):
        return []
    # A name bound by an import (np, tf, signal) is a library, even if later reassigned.
    own = _own_names(tree) - _imported_names(tree)
    scanner = _Scanner(forbidden_modules, own, _bound_names(tree, forbidden_modules))
    scanner.visit(tree)
    unique = {(f.line, f.what): f for f in scanner.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.what))
