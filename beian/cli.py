"""Command line: thin adapters over the engine. Each command calls one function and turns a typed
error into `Error: …` on stderr with an exit code (1 = content problems, 2 = bad input)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import ContentError, InputError
from .kb import load_kb


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def cmd_validate(args) -> int:
    try:
        kb = load_kb(args.root)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found.", file=sys.stderr)
        return 1
    phrasings = sum(len(e.phrasings) for e in kb.entries)
    print(f"OK: {len(kb.entries)} entries, {phrasings} phrasings, {len(kb.corrections)} corrections.")
    return 0


def cmd_export(args) -> int:
    from .export import export_entries

    _print_json(export_entries(load_kb(args.root)))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; make sure it is one clear line, not a usage dump."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"Error: {message} (see 'python -m beian {self.prog.split()[-1]} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m beian", description="备案助手: answer ICP-filing questions, check eligibility.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check all YAML content; exit 1 listing every problem")
    p.add_argument("root", nargs="?", type=Path, default=None, help="folder holding knowledge/ and faq/")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="every answerable entry with all its phrasings")
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.add_argument("--root", type=Path, default=None)
    p.set_defaults(func=cmd_export)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ContentError as exc:
        print("Error: the content does not validate; run 'python -m beian validate' for details:", file=sys.stderr)
        for problem in exc.problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except InputError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
