#!/usr/bin/env python3
"""Record or check the values of the public constants of <eaudit.h>.

The names come from the preprocessed headers: every EAUDIT_ enumerator and
every EAUDIT_ object-like macro that expands to a value. The values come
from a C program compiled against the headers, so they are what a caller's
compiler sees.

  gen-constants.py --cc CC --include DIR --out FILE     write the record
  gen-constants.py --cc CC --include DIR --check FILE   compare with it
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# Macros that change by design from release to release: not ABI.
EXCLUDED = re.compile(r"EAUDIT_VERSION_\w+|EAUDIT_SCHEMA_VERSION")


def preprocess(cc, inc, *flags):
    return subprocess.run([cc, "-std=c11", "-E", *flags, "-I", inc, "-x", "c",
                           os.path.join(inc, "eaudit.h")],
                          check=True, capture_output=True, text=True).stdout


def names(cc, inc):
    found = []
    for body in re.findall(r"\benum\b\s*\w*\s*\{([^}]*)\}", preprocess(cc, inc, "-P")):
        for item in body.split(","):
            m = re.match(r"\s*(EAUDIT_\w+)", item)
            if m:
                found.append(m.group(1))
    for line in preprocess(cc, inc, "-dM").splitlines():
        m = re.match(r"#define (EAUDIT_\w+) (.+)$", line)
        if (m and not m.group(1).startswith("EAUDIT__")
                and not EXCLUDED.fullmatch(m.group(1))
                and not re.search(r"__attribute__|\bextern\b|[{}]", m.group(2))):
            found.append(m.group(1))
    return sorted(set(found))


PROGRAM = """#include <eaudit.h>
#include <stdio.h>
#define P(n) _Generic((n), char *: ps, const char *: ps, float: pd, double: pd, \\
  unsigned: pu, unsigned long: pu, unsigned long long: pu, default: pi)(#n, n)
static void ps(const char *k, const char *v) { printf("%s = \\"%s\\"\\n", k, v); }
static void pd(const char *k, double v) { printf("%s = %.17g\\n", k, v); }
static void pu(const char *k, unsigned long long v) { printf("%s = %llu\\n", k, v); }
static void pi(const char *k, long long v) { printf("%s = %lld\\n", k, v); }
int main(void) {
"""


def values(cc, inc):
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "c.c"), os.path.join(tmp, "c")
        with open(src, "w") as f:
            f.write(PROGRAM + "".join(f"  P({n});\n" for n in names(cc, inc)) + "  return 0;\n}\n")
        subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", inc, src, "-o", exe],
                       check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return dict(line.split(" = ", 1) for line in out.splitlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--include", required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out")
    g.add_argument("--check")
    a = ap.parse_args()
    now = values(a.cc, a.include)
    if a.out:
        with open(a.out, "w") as f:
            f.writelines(f"{k} = {v}\n" for k, v in sorted(now.items()))
        print(f"{a.out}: {len(now)} constants")
        return 0
    with open(a.check) as f:
        rec = dict(l.rstrip("\n").split(" = ", 1) for l in f if l.strip())
    bad = 0
    for k, v in sorted(rec.items()):
        if k not in now:
            print(f"FAIL missing: {k} (recorded {v})")
            bad += 1
        elif now[k] != v:
            print(f"FAIL changed: {k} = {now[k]} (recorded {v})")
            bad += 1
    for k in sorted(now.keys() - rec.keys()):
        print(f"added: {k} = {now[k]}")
    print(f"{len(rec)} recorded, {bad} missing or changed, {len(now.keys() - rec.keys())} added")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
