"""`satellite models list|pull|verify`: see, fetch and check the model files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from satellite.config import Config
from satellite.errors import ModelError
from satellite.models import FileState, ModelStatus, ModelStore, PullError, PullResult, open_store
from satellite.models.progress import megabytes

PROFILES = ("lite", "full")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "models", help="list, download and check model files", description=__doc__
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show every model and whether it is on disk")
    listing.add_argument("--profile", choices=PROFILES, help="only the models of this profile")
    pull = actions.add_parser(
        "pull", help="download models (default: the configured profile and wake models)"
    )
    verify = actions.add_parser("verify", help="check sizes and sha256 of downloaded models")
    for sub in (pull, verify):
        sub.add_argument("names", nargs="*", metavar="NAME", help="models to act on")
        sub.add_argument("--profile", choices=PROFILES, help="add the models of this profile")
        sub.add_argument("--all", action="store_true", help="every model in the manifest")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    """Run `satellite models ACTION`; returns the exit code."""
    store = open_store(config.models.dir, config.models.manifest)
    out = sys.stdout
    if args.models_action == "list":
        return list_models(store, args.profile or "", out)
    names = selected(store, args, config.models.profile)
    if not args.names and not args.profile and not args.all:
        names = store.manifest.select([*names, *configured_wake_models(store, config)])
    if args.models_action == "pull":
        return pull_models(store, names, out)
    return verify_models(store, names, out)


def selected(store: ModelStore, args: argparse.Namespace, default_profile: str) -> list[str]:
    """The models named on the command line; the configured profile when none are."""
    if args.all:
        return list(store.manifest.models)
    if not args.names and not args.profile:
        return store.manifest.select([], default_profile)
    return store.manifest.select(args.names, args.profile or "")


def configured_wake_models(store: ModelStore, config: Config) -> list[str]:
    """The wake models the configuration names that are in the manifest (`micro_okay_nabu` for
    microWakeWord's okay_nabu): pulled and verified with the profile."""
    from satellite.app.wake import wake_model_names

    return [n for n in wake_model_names(config.wake) if n in store.manifest.models]


def list_models(store: ModelStore, profile: str, out: TextIO) -> int:
    optional = store.manifest.optional.get(profile, ()) if profile else ()
    names = [*store.manifest.profile(profile), *optional] if profile else None
    rows = [("NAME", "KIND", "SIZE", "STATUS", "LICENCE")]
    rows += [
        (s.name, s.model.kind, megabytes(s.model.size), describe(s), s.model.licence)
        for s in store.status(names)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[4]]) + "\n")
    out.write(f"models directory: {store.directory}\n")
    return 0


def describe(status: ModelStatus) -> str:
    """`present`, `missing`, `missing (42% downloaded)`, `corrupt`, `wrong size`."""
    state = status.state
    if state is FileState.MISSING and status.partial:
        return f"missing ({100 * status.partial // status.model.size}% downloaded)"
    return str(state)


def pull_models(store: ModelStore, names: Sequence[str], out: TextIO) -> int:
    try:
        results = store.pull(names)
    except PullError as err:
        report_pulled(err.results, out)
        raise ModelError("some models could not be fetched:\n" + "\n".join(err.failures)) from None
    report_pulled(results, out)
    return 0


def report_pulled(results: list[PullResult], out: TextIO) -> None:
    for result in results:
        where = f"fetched from {result.source.describe()}" if result.source else "already present"
        out.write(f"{result.model}: {result.path.name} {where}\n")


def verify_models(store: ModelStore, names: Sequence[str], out: TextIO) -> int:
    problems = store.verify(names)
    for problem in problems:
        out.write(f"{problem}\n")
    if problems:
        hint = " ".join(dict.fromkeys(p.split(":", 1)[0] for p in problems))
        out.write(f"{len(problems)} problem(s); to fix: satellite models pull {hint}\n")
        return 1
    files = sum(len(store.manifest.model(n).files) for n in names)
    out.write(f"{len(names)} model(s), {files} file(s): all good\n")
    return 0
