#!/usr/bin/env python3
"""heed's own documentation examples, run against arbordb.

Downloads heed 0.22.1 and heed-types 0.21.0 from the crate registry (`cargo fetch`: their
sources only, nothing of them is built), takes every Rust code block of their documentation and
every program in heed's examples/ folder, changes only the crate path (`heed` becomes
`arbordb`), and runs them: the code blocks as doc tests of a scratch crate, the programs as its
examples. None of heed's code enters this repository; the scratch crate lives under target/.

Every example must compile and run, except the ones listed in EXPECTED_TO_FAIL, each with the
reason arbordb differs on purpose (README, "Differences from heed"). One that fails and is not
listed, or is listed and passes, fails this check.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HEED = "0.22.1"
HEED_TYPES = "0.21.0"

# (file in heed's crate, the code block's first line number) -> why it fails against arbordb.
EXPECTED_TO_FAIL = {
    ("src/envs/env_open_options.rs", 64): "a RoTxn<WithTls> is Send in arbordb (no thread-local slot)",
    ("src/envs/env_open_options.rs", 280): "encryption (heed3) is not an arbordb feature",
    ("src/iterator/mod.rs", 57): "write iterators are Send in arbordb",
    ("src/iterator/mod.rs", 64): "write iterators are Send in arbordb",
    ("src/iterator/mod.rs", 71): "write iterators are Send in arbordb",
    ("src/iterator/mod.rs", 78): "write iterators are Send in arbordb",
    ("src/iterator/mod.rs", 85): "write iterators are Send in arbordb",
    ("src/iterator/mod.rs", 92): "write iterators are Send in arbordb",
    ("src/lib.rs", 125): "lmdb_version() reports arbordb's own version, not LMDB's",
}

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "heed-examples"


def run(args, cwd, **kwargs):
    return subprocess.run(args, cwd=cwd, check=True, text=True, **kwargs)


def fetch_sources():
    """The unpacked sources of heed and heed-types, from the registry."""
    fetch = WORK / "fetch"
    (fetch / "src").mkdir(parents=True, exist_ok=True)
    (fetch / "src" / "lib.rs").write_text("")
    (fetch / "Cargo.toml").write_text(
        '[package]\nname = "heed-fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f'[dependencies]\nheed = "={HEED}"\nheed-types = "={HEED_TYPES}"\n\n[workspace]\n'
    )
    run(["cargo", "fetch", "--quiet"], fetch)
    metadata = json.loads(
        run(["cargo", "metadata", "--format-version", "1"], fetch, capture_output=True).stdout
    )
    roots = {}
    for package in metadata["packages"]:
        if (package["name"], package["version"]) in (("heed", HEED), ("heed-types", HEED_TYPES)):
            roots[package["name"]] = Path(package["manifest_path"]).parent
    return roots["heed"], roots["heed-types"]


def to_arbordb(code):
    """heed code with the crate path changed, and nothing else."""
    code = code.replace("heed_traits::", "arbordb::").replace("heed_types::", "arbordb::types::")
    code = re.sub(r"\buse heed_traits\b", "use arbordb", code)
    code = re.sub(r"\buse heed_types\b", "use arbordb::types", code)
    code = re.sub(r"\bheed::", "arbordb::", code)
    code = re.sub(r"\buse heed\b", "use arbordb", code)
    return code


def code_blocks(path):
    """(first line, info string, code) of each fenced block in the file's doc comments."""
    blocks, block, info, start = [], None, "", 0
    for number, line in enumerate(path.read_text().split("\n"), 1):
        match = re.match(r"^\s*(///|//!)\s?(.*)$", line)
        if not match:
            block = None
            continue
        text = match.group(2)
        if block is None:
            fence = re.match(r"^```(.*)$", text.strip())
            if fence:
                block, info, start = [], fence.group(1).strip(), number
        elif text.strip() == "```":
            blocks.append((start, info, "\n".join(block)))
            block = None
        else:
            block.append(text)
    return blocks


def is_rust(info):
    words = [word for word in info.split(",") if word]
    return all(word in ("rust", "no_run", "compile_fail", "should_panic") for word in words)


def scratch_crate(heed, heed_types):
    crate = WORK / "crate"
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "examples").mkdir(exist_ok=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "heed-examples"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f'[dependencies]\narbordb = {{ path = "{ROOT}", features = ["serde-rmp"] }}\n\n'
        '[dev-dependencies]\nbyteorder = "1"\nmemchr = "2"\nrand = "0.9"\nrayon = "1"\n'
        'roaring = "0.10"\nserde = { version = "1", features = ["derive"] }\ntempfile = "3"\n\n'
        "[workspace]\n"
    )
    items, names = ["#![allow(dead_code)]\n"], {}
    for root in (heed, heed_types):
        for path in sorted((root / "src").rglob("*.rs")):
            relative = str(path.relative_to(root))
            if "encrypted" in relative:
                continue  # heed3's encrypted environments: not an arbordb feature
            for start, info, code in code_blocks(path):
                if not is_rust(info):
                    continue
                name = f"example_{len(names) + 1}"
                crate_name = root.name.rsplit("-", 1)[0]
                names[name] = (crate_name, relative, start)
                lines = to_arbordb(code).split("\n")
                doc = "\n".join(f"/// {line}" if line else "///" for line in lines)
                items.append(f"/// ```{info}\n{doc}\n/// ```\npub fn {name}() {{}}\n")
    (crate / "src" / "lib.rs").write_text("\n".join(items))
    programs = []
    for path in sorted((heed / "examples").glob("*.rs")):
        (crate / "examples" / path.name).write_text(to_arbordb(path.read_text()))
        programs.append(path.stem)
    return crate, names, programs


def main():
    heed, heed_types = fetch_sources()
    crate, names, programs = scratch_crate(heed, heed_types)
    env = dict(os.environ, CARGO_TARGET_DIR=str(WORK / "target"))
    doc = subprocess.run(
        ["cargo", "test", "--doc"], cwd=crate, env=env, text=True, capture_output=True
    )
    outcome = {}
    for match in re.finditer(r"^test src/lib\.rs - (example_\d+) \(line \d+\).*\.\.\. (ok|FAILED)$",
                             doc.stdout, re.M):
        outcome[match.group(1)] = match.group(2) == "ok"
    if len(outcome) != len(names):
        sys.stderr.write(doc.stdout[-4000:] + doc.stderr[-4000:])
        sys.exit(f"{len(outcome)} of {len(names)} documentation examples reported a result")
    build = subprocess.run(["cargo", "build", "--examples"], cwd=crate, env=env, text=True,
                           capture_output=True)
    if build.returncode != 0:
        sys.stderr.write(build.stderr[-8000:])
        sys.exit("heed's example programs do not build against arbordb")
    for program in programs:
        ran = subprocess.run([str(WORK / "target" / "debug" / "examples" / program)], cwd=crate,
                             capture_output=True, text=True)
        outcome[program] = ran.returncode == 0
        names[program] = ("heed", f"examples/{program}.rs", 1)
    unexpected = []
    passed = 0
    for name, ok in sorted(outcome.items()):
        crate_name, file, line = names[name]
        reason = EXPECTED_TO_FAIL.get((file, line)) if crate_name == "heed" else None
        passed += ok
        if ok and reason:
            unexpected.append(f"{crate_name} {file}:{line} now runs; drop it from the list ({reason})")
        elif not ok and not reason:
            unexpected.append(f"{crate_name} {file}:{line} fails")
    print(f"heed {HEED} documentation examples and programs: {passed} of {len(outcome)} run; "
          f"{len(outcome) - passed} differ on purpose")
    if unexpected:
        for line in unexpected:
            print(f"  {line}", file=sys.stderr)
        sys.exit(f"{len(unexpected)} heed examples behave unexpectedly (run `cargo test --doc` in {crate})")


if __name__ == "__main__":
    main()
