#!/usr/bin/env python3
"""Record or check which release node exports each public function.

Three sources must agree: the EAUDIT_EXTERN declarations in the headers, the
dynamic symbols of the shared library (nm -D, with their version nodes) and
the record, one line per symbol: "name node [deprecated]".

  symbols.py --include DIR --lib SO --map MAP --out FILE     write the record
  symbols.py --include DIR --lib SO --map MAP --check FILE   compare
      [--allow-unexported]  a declared, recorded function need not be
                            exported yet (until the release is recorded)
"""
import argparse
import glob
import os
import re
import subprocess
import sys


def declared(inc):
    """{name: deprecated?} for each EAUDIT_EXTERN declaration."""
    out = {}
    for path in sorted(glob.glob(os.path.join(inc, "**", "*.h"), recursive=True)):
        with open(path) as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
        text = re.sub(r"^\s*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
        # The message may hold any character; only the mark matters here.
        text = re.sub(r'EAUDIT_DEPRECATED\s*\(\s*(?:"(?:[^"\\]|\\.)*"\s*)*\)', "@DEPRECATED@", text)
        for before, decl in re.findall(r"(@DEPRECATED@\s*)?\bEAUDIT_EXTERN\b([^;]*);", text):
            depr = bool(before) or "@DEPRECATED@" in decl
            m = (re.search(r"\b(eaudit_\w+)\s*\(", decl) or re.search(r"\b(\w+)\s*\(", decl)
                 or re.search(r"\b(\w+)\s*(?:\[[^]]*\]\s*)*$", decl))
            if not m:
                sys.exit(f"{path}: cannot read the declaration: EAUDIT_EXTERN{decl};")
            out[m.group(1)] = depr
    return out


def exported(lib):
    """{name: node} for each symbol the library defines, node '' if unversioned."""
    out = {}
    nm = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                        capture_output=True, text=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":  # "A" entries are the nodes themselves
            continue
        name, _, node = parts[2].partition("@")
        out[name] = node.lstrip("@")
    return out


def map_nodes(path):
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    return re.findall(r"([\w.]+)\s*\{", text), text


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--include", "--lib", "--map"):
        ap.add_argument(opt, required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out")
    g.add_argument("--check")
    ap.add_argument("--allow-unexported", action="store_true")
    a = ap.parse_args()
    decl, exp = declared(a.include), exported(a.lib)
    nodes, maptext = map_nodes(a.map)
    errors = []
    for name in sorted(exp):
        if not re.fullmatch(r"eaudit_[a-z0-9]\w*", name) or "__" in name:
            errors.append(f"exported but not public API: {name}")
        elif name not in decl:
            errors.append(f"exported but not declared EAUDIT_EXTERN in the headers: {name}")
    # A glob in a node below the newest would swallow new symbols into a frozen node.
    for node, body in re.findall(r"([\w.]+)\s*\{([^}]*)\}", maptext)[:-1]:
        if "*" in body.split("local:")[0]:
            errors.append(f"{a.map}: node {node} has a wildcard but is not the newest node")

    if a.out:
        if errors:
            sys.exit("\n".join(errors))
        with open(a.out, "w") as f:
            for name, depr in sorted(decl.items()):
                f.write(f"{name} {exp.get(name) or nodes[-1]}{' deprecated' if depr else ''}\n")
        print(f"{a.out}: {len(decl)} symbols, {sum(n in exp for n in decl)} exported")
        return 0

    rec = {}
    with open(a.check) as f:
        for line in f:
            if line.strip():
                name, node, *rest = line.split()
                rec[name] = (node, rest == ["deprecated"])
    notes = []
    for name in sorted(exp.keys() | decl.keys() | rec.keys()):
        if name not in rec:
            if name in decl:
                errors.append(f"declared but not recorded: {name}")
            elif name in exp:
                errors.append(f"exported but not recorded: {name}")
            continue
        node, depr = rec[name]
        if name not in decl:
            errors.append(f"recorded but no longer declared: {name}")
        elif decl[name] != depr:
            errors.append(f"deprecation differs from the record: {name}")
        if node not in nodes:
            errors.append(f"recorded in {node}, which the version script lacks: {name}")
        if name in exp and exp[name] != node:
            errors.append(f"exported in {exp[name] or 'no node'}, recorded in {node}: {name}")
        elif name not in exp and name in decl:
            (notes if a.allow_unexported else errors).append(f"declared but not exported: {name}")
    if notes:
        print("note: declared but not exported yet (allowed until the release is recorded): "
              + " ".join(n.split()[-1] for n in notes))
    for e in errors:
        print(f"FAIL {e}")
    print(f"{len(rec)} recorded, {len(exp)} exported, {len(decl)} declared, "
          f"{len(errors)} problems, {len(notes)} not yet exported")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
