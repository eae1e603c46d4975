"""Static scan of student code for library convolutions, forbidden imports and obfuscation."""

from __future__ import annotations

import ast
from dataclasses import dataclass

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
    def __init__(self, forbidden_modules: tuple[str, ...], own_names: set[str]) -> None:
        self.forbidden = forbidden_modules
        self.own = own_names
        self.findings: list[Finding] = []

    def add(self, node: ast.AST, what: str, why: str) -> None:
        line = getattr(node, "lineno", 0)
        self.findings.append(Finding(line, what, f"line {line}: {what} {why}"))

    def _import(self, node: ast.AST, module: str) -> None:
        blocked = _matches(module, self.forbidden)
        if blocked:
            self.add(
                node,
                f"import {module}",
                f"uses {blocked}, which is not allowed in this lab; {DO_IT_YOURSELF}",
            )
        elif module.split(".")[0] in OBFUSCATION_MODULES:
            self.add(node, f"import {module}", f"is not needed for a convolution; {HIDDEN}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0:
            self._import(node, module)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if alias.name in LIBRARY_CONVOLUTIONS and not _matches(module, self.forbidden):
                    self.add(
                        node,
                        f"from {module} import {alias.name}",
                        f"is a library convolution; {DO_IT_YOURSELF}",
                    )
                elif _matches(full, self.forbidden) and not _matches(module, self.forbidden):
                    self._import(node, full)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = _dotted(node) or ast.unparse(node)[:60]
        if node.attr in LIBRARY_CONVOLUTIONS:
            # `self.conv2d` or `my_module.conv2d` on the student's own object is theirs.
            root = dotted.split(".")[0]
            if root not in self.own or root in ("np", "numpy"):
                self.add(node, dotted, f"is a library convolution; {DO_IT_YOURSELF}")
                if _dotted(node) is not None:
                    return  # one finding per chain: not again for `np.fft` in `np.fft.fft2`
        elif node.attr in OBFUSCATION_ATTRIBUTES:
            self.add(node, dotted, f"reaches into Python internals; {HIDDEN}")
        elif dotted == "sys.modules":
            self.add(node, dotted, f"reaches into loaded modules; {HIDDEN}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
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


def scan(code: str, *, forbidden_modules: tuple[str, ...]) -> list[Finding]:
    """Findings in `code`, sorted by line; a syntax error gives none (loading reports it)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    # A name bound by an import (np, tf, signal) is a library, even if later reassigned.
    own = _own_names(tree) - _imported_names(tree)
    scanner = _Scanner(forbidden_modules, own)
    scanner.visit(tree)
    unique = {(f.line, f.what): f for f in scanner.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.what))
