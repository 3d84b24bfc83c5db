"""Command line: thin adapters over the engine. Each command calls one function and turns a typed
error into `Error: …` on stderr with an exit code (1 = content problems, 2 = bad input)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import ContentError, InputError
from .kb import load_kb


def _print_json(obj) -> None:
    _write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


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


def cmd_check(args) -> int:
    from .eligibility import check, format_verdict

    verdict = check(domain=args.domain, server=args.server, main_filed=args.main_filed, same_subject=args.same_subject,
                    subject=args.subject, industry=args.industry, preapproval=args.preapproval, root=args.root)
    if args.json:
        _print_json(verdict.to_json())
    else:
        _write(format_verdict(verdict) + "\n")
    return 0


def _write(text: str) -> None:
    """UTF-8 to stdout whatever the locale says (answers are Chinese): an ASCII or Latin-1 locale
    must not turn an answer into a UnicodeEncodeError traceback."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(text)
    else:
        sys.stdout.flush()
        out.write(text.encode("utf-8", "replace"))
        out.flush()


def cmd_ask(args) -> int:
    from .matcher import Matcher, question_from_bytes
    from .presenters import format_answer

    if args.question is None and not args.jsonl:
        raise InputError("give a question (python -m beian ask \"二级域名要单独备案吗\") or --jsonl to read stdin")
    matcher = Matcher.build(load_kb(args.root))
    if args.jsonl:  # one question a line in, one JSON object a line out, in order
        for raw in sys.stdin.buffer:
            answer = matcher.ask(question_from_bytes(raw))
            _write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        return 0
    answer = matcher.ask(question_from_bytes(os.fsencode(args.question)))
    _write(json.dumps(answer.to_json(), ensure_ascii=False, indent=2) + "\n" if args.json else format_answer(answer) + "\n")
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate

    evaluate(load_kb(args.root), args.file, loo=args.loo, peers=not args.no_peers)
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench

    run_bench(load_kb(args.root), scales=args.scales, questions_per_scale=args.questions)
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

    from .eligibility import MAIN_FILED, SERVERS, SUBJECTS  # loaded with the package already

    p = sub.add_parser("check", help="can this hostname be filed, and what next? (exit 2 on bad input)")
    p.add_argument("--domain", required=True, help="hostname or URL, e.g. blog.example.com.cn")
    p.add_argument("--server", required=True, choices=SERVERS)
    p.add_argument("--main-filed", required=True, choices=MAIN_FILED,
                   help="is the main domain filed already, and with which access provider")
    p.add_argument("--same-subject", required=True, choices=("yes", "no"),
                   help="is the filing subject the main domain's real-name holder")
    p.add_argument("--subject", choices=SUBJECTS)
    p.add_argument("--industry", help="special-industry key (news, finance, …; see knowledge/eligibility.yaml) or none")
    p.add_argument("--preapproval", choices=("yes", "no"), help="holds the industry's pre-approval")
    p.add_argument("--json", action="store_true", help="JSON output (DESIGN.md contract)")
    p.add_argument("--root", type=Path, default=None, help="content root (default: the project)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("ask", help="answer a question from the knowledge base (or decline, with suggestions)")
    p.add_argument("question", nargs="?", help="the question, e.g. 二级域名要单独备案吗")
    p.add_argument("--json", action="store_true", help="JSON output (DESIGN.md contract)")
    p.add_argument("--jsonl", action="store_true", help="read one question a line from stdin, write one JSON object a line")
    p.add_argument("--root", type=Path, default=None, help="content root (default: the project)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="top-1/top-3/decline figures on eval/questions.yaml, beside two peers")
    p.add_argument("--file", type=Path, default=None, help="labelled questions (default: eval/questions.yaml)")
    p.add_argument("--loo", action="store_true", help="evaluate on the development data instead (leave-one-out)")
    p.add_argument("--no-peers", action="store_true", help="skip the naive rapidfuzz and BM25 peers")
    p.add_argument("--root", type=Path, default=None)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="latency p50/p95 and index build time at 1x..1000x the content")
    p.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100, 1000])
    p.add_argument("--questions", type=int, default=300, help="questions timed per scale")
    p.add_argument("--root", type=Path, default=None)
    p.set_defaults(func=cmd_bench)

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
