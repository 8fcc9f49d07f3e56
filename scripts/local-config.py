#!/usr/bin/env python3
"""Writes the configuration of one local api worker and its objects worker, which run
together in one `wrangler dev` session:

    wrangler dev -c OUT/api.json -c OUT/objects.json …

(the first config is the session's primary worker: the command line's port, `--var`s
and `--name` are its alone; the objects worker gets only what its config and the
`.dev.vars` beside it say).

The two configs are the checkout's top-level (local) sections of `wrangler.toml` and
`workers/objects/wrangler.toml`, with

  * `main` made absolute (from `--api-build` and `--objects-build` when given: a
    snapshot of the build outputs);
  * with `--suffix=S` (with `=`, as S starts with a dash), the names `dream-api` + S and
    `dream-objects` + S, and the api worker's object bindings pointing at
    `dream-objects` + S, so that two pairs on one machine never meet in wrangler's
    registry of local workers;
  * every `--var NAME=VALUE` in OUT/.dev.vars, which both workers read (wrangler reads the
    `.dev.vars` beside a worker's config, and shows its values as hidden): each takes the
    ones it needs, over its config's own vars. Start the session without `--env-file`.

    python3 scripts/local-config.py OUT_DIR [--suffix=S] [--var NAME=VALUE]…
                                    [--api-build DIR] [--objects-build DIR]
"""

import argparse
import json
import os
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
API_CONFIG = ROOT / "wrangler.toml"
OBJECTS_CONFIG = ROOT / "workers" / "objects" / "wrangler.toml"
OBJECTS_NAME = "dream-objects"


def local_section(path: pathlib.Path, build: pathlib.Path | None) -> dict:
    """The config's top level (no `env`), its paths absolute."""
    config = tomllib.loads(path.read_text())
    config.pop("env", None)
    if build is None:
        config["main"] = str((path.parent / config["main"]).resolve())
    else:
        config["main"] = str(build.resolve() / "index.js")
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=pathlib.Path)
    parser.add_argument("--suffix", default="")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--api-build", type=pathlib.Path)
    parser.add_argument("--objects-build", type=pathlib.Path)
    args = parser.parse_args()

    variables = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            # Not the item itself: it may be a secret given the wrong way.
            parser.error("every --var takes NAME=VALUE")
        if "'" in value or "\n" in value:
            parser.error(f"--var {name}: a value may hold no single quote or newline")
        variables[name] = value

    api = local_section(API_CONFIG, args.api_build)
    objects = local_section(OBJECTS_CONFIG, args.objects_build)
    objects_name = OBJECTS_NAME + args.suffix
    api["name"] = api["name"] + args.suffix
    objects["name"] = objects_name
    for binding in api.get("durable_objects", {}).get("bindings", []):
        if binding.get("script_name") != OBJECTS_NAME:
            sys.exit(f"{API_CONFIG}: binding {binding['name']} is not the objects worker's")
        binding["script_name"] = objects_name

    args.out_dir.mkdir(parents=True, exist_ok=True)
    dev_vars = "".join(f"{name}='{value}'\n" for name, value in variables.items())
    # Secrets among them: readable by this user only.
    path = args.out_dir / ".dev.vars"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(dev_vars)
    path.chmod(0o600)
    for name, config in (("api", api), ("objects", objects)):
        (args.out_dir / f"{name}.json").write_text(json.dumps(config, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
