#!/usr/bin/env python3
"""Checks the shape of the Rust sources: no file over 700 lines, and no import cycle
between the modules of a crate.

A module's dependencies are the `crate::…` and `super::…` paths it names outside
comments (in `use` items or inline), resolved to the longest module that exists. A
module and its own submodules count as one (a child naming `super` is not a cycle).
Prints what it found and exits 1 if any rule is broken.

Usage: python3 scripts/structure.py [ROOT]   (ROOT: the checkout, default: this one)
"""

import pathlib
import re
import sys

MAX_LINES = 700
SOURCE_DIRS = ["crates", "workers", "frontend", "bench", "tests"]


def crate_roots(root):
    """Every `src` directory of a crate (one holding lib.rs or main.rs)."""
    for top in SOURCE_DIRS:
        for manifest in sorted((root / top).rglob("Cargo.toml")):
            if "node_modules" in manifest.parts or "target" in manifest.parts:
                continue
            src = manifest.parent / "src"
            if (src / "lib.rs").exists() or (src / "main.rs").exists():
                yield src


def module_of(src, path):
    """The module path of a file: lib.rs → (), a/mod.rs → (a,), a/b.rs → (a, b)."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts.pop()
    return tuple(parts)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def named_paths(text):
    """Every path beginning with crate:: or super:: (braced `use` groups expanded)."""
    text = strip_comments(text)
    paths = []
    for match in re.finditer(r"\b((?:crate|super)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))*)::\{", text):
        prefix, depth, i, item = match.group(1), 1, match.end(), ""
        while i < len(text) and depth:
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            if depth == 1 and c == ",":
                paths.append(prefix + "::" + item.strip())
                item = ""
            elif depth >= 1 and not (depth == 1 and c == "{"):
                item += c
            i += 1
        if item.strip():
            paths.append(prefix + "::" + item.strip())
    for match in re.finditer(r"\b(?:crate|super)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+", text):
        paths.append(match.group(0))
    return paths


def resolve(path, here, modules):
    """The module a path lands in, or None (an item of the crate root, or outside)."""
    parts = [p.strip() for p in re.split(r"::", path) if p.strip()]
    if parts[0] == "crate":
        base, rest = [], parts[1:]
    else:
        base, rest = list(here), parts
        while rest and rest[0] == "super":
            if base:
                base.pop()
            rest = rest[1:]
    best = tuple(base)
    for name in rest:
        name = re.split(r"[^A-Za-z0-9_]", name)[0]
        if tuple(best) + (name,) in modules:
            best = tuple(best) + (name,)
        else:
            break
    return best


def related(a, b):
    return a[: len(b)] == b or b[: len(a)] == a


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    broken = 0
    files = 0
    for src in crate_roots(root):
        sources = sorted(src.rglob("*.rs"))
        modules = {module_of(src, p): p for p in sources}
        graph = {}
        for module, path in modules.items():
            text = path.read_text()
            files += 1
            lines = text.count("\n")
            if lines > MAX_LINES:
                print(f"{path.relative_to(root)}: {lines} lines (at most {MAX_LINES})")
                broken += 1
            for named in named_paths(text):
                target = resolve(named, module, modules)
                if target is not None and target != module and not related(target, module):
                    graph.setdefault(module, set()).add(target)
        # A module and its submodules are one: fold each edge onto the top-level
        # modules where the two sides' paths part.
        folded = {}
        for a, targets in graph.items():
            for b in targets:
                common = 0
                while common < min(len(a), len(b)) and a[common] == b[common]:
                    common += 1
                folded.setdefault(a[: common + 1], set()).add(b[: common + 1])
        for component in cycles(folded):
            names = ", ".join("::".join(m) or "crate" for m in component)
            print(f"{src.relative_to(root).parent}: import cycle between {names}")
            broken += 1
    print(f"structure: {files} files, {broken} problem(s)")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
