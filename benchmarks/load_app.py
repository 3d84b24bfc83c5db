"""Load test of the app: N browser sessions asking questions at the same time.

Starts its own `streamlit run app.py` on 127.0.0.1 (a free port, a temporary BEIAN_DATA_DIR), opens
one headless Debian chromium (never `playwright install`) with one browser context — one Streamlit
session — per simulated user, and has every session ask its questions one after another, all
sessions at once. For each question it measures, inside the page, the time from the Enter key to
the answer's text being visible (the title of the entry answered, or the words of a polite decline).
Prints p50/p95/max and the errors: a timeout, an exception or error box on the page, a JavaScript
error or dialog, or a question missing from the log afterwards. Bounded: every wait has a timeout,
the whole run has one, and the server is stopped whatever happens.

    .venv/bin/python benchmarks/load_app.py                      # 10 sessions x 5 questions
    .venv/bin/python benchmarks/load_app.py --sessions 20 --questions 8 --timeout 300

Exit status 0 when errors = 0. tests/test_load.py runs a small variant (3 x 2) in the default suite.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("BEIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
CHAT_BOX = '[data-testid="stChatInput"] textarea'
PROBLEMS = ('[data-testid="stException"], [data-testid="stChatMessage"] [data-testid="stAlertContentError"]')

# In the page: when Enter goes down in the chat box, and when one more assistant message than
# before holds `text` (the answer's title or decline words), both with performance.now().
ANSWER_TIMER_JS = """([box, text]) => {
    const holding = () => [...document.querySelectorAll('[data-testid="stChatMessage"]')]
        .filter((m) => m.querySelector('[data-testid="stMarkdown"]') && m.textContent.includes(text)).length;  // textContent: no forced layout
    const before = holding();
    window.__t = {enter: null, shown: null, text: text};
    // on the document, not the box: a rerun may replace the textarea between this call and the key
    document.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && e.target.matches(box) && window.__t.enter === null) window.__t.enter = performance.now();
    }, {capture: true});
    const obs = new MutationObserver(() => {
        if (window.__t.enter !== null && window.__t.shown === null && holding() > before) {
            window.__t.shown = performance.now();
            obs.disconnect();
        }
    });
    obs.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    started: float  # time.perf_counter() just before the process was started
    log_path: Path
    data_dir: Path
    proc: subprocess.Popen


@contextmanager
def streamlit_server(data_dir: Path, *, start_timeout: float = 60.0) -> Iterator[Server]:
    """`streamlit run app.py` on 127.0.0.1 and a free port, with its log in `data_dir`; yields once
    its health endpoint answers and stops it on exit. No admin token, the project's own content."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("BEIAN_DB", "BEIAN_ADMIN_TOKEN", "BEIAN_CONTENT_ROOT")}
    env.update(BEIAN_DATA_DIR=str(data_dir), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", PYTHONUNBUFFERED="1")
    log_path = data_dir / "streamlit.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        server = Server(f"http://127.0.0.1:{port}/", started, log_path, data_dir, proc)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(server.url + "_stcore/health", timeout=1) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.perf_counter() - started > start_timeout:
                    raise RuntimeError(f"streamlit did not start in {start_timeout:.0f} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.05)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def pick_questions(n: int, seed: int = 5) -> list[tuple[str, str]]:
    """`n` labelled questions (answered and declined ones alike), each with the text its answer shows."""
    import yaml

    import beian.eligibility  # noqa: F401  (registers every content file)
    from beian.kb import load_kb
    from beian.matcher import Matcher
    from beian.presenters import decline_text

    matcher = Matcher.build(load_kb(ROOT))
    data = yaml.safe_load((ROOT / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    pool = [str(q["q"]) for q in data["questions"] if isinstance(q, dict) and q.get("q")]
    random.Random(seed).shuffle(pool)
    out = []
    for q in pool[:n]:
        a = matcher.ask(q)
        out.append((q, a.title if a.answered else decline_text(a.reason)))
    return out


@dataclass
class Result:
    sessions: int
    questions: int
    answer_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    logged: int = 0
    wall_s: float = 0.0
    server_ready_s: float = 0.0
    server_cpu_s: float = 0.0  # CPU the streamlit process used during the run (2 cores shared with chromium)

    def pct(self, p: float) -> float:
        values = sorted(self.answer_ms)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(p * (len(values) - 1))))]

    def lines(self) -> list[str]:
        n = self.sessions * self.questions
        return [
            f"[load] {self.sessions} concurrent sessions x {self.questions} questions, one chromium, "
            f"streamlit on 127.0.0.1 (server ready in {self.server_ready_s:.1f} s)",
            f"[load] time to a visible answer: p50 {self.pct(0.5):.0f} ms, p95 {self.pct(0.95):.0f} ms, "
            f"max {max(self.answer_ms, default=float('nan')):.0f} ms ({len(self.answer_ms)}/{n} answers"
            + (f", mean {statistics.fmean(self.answer_ms):.0f} ms)" if self.answer_ms else ")"),
            f"[load] errors = {len(self.errors)}; questions in the log: {self.logged}/{n}; wall {self.wall_s:.1f} s, "
            f"server CPU {self.server_cpu_s:.1f} s",
            *(f"[load]   error: {e}" for e in self.errors[:20]),
        ]


async def _session(browser, url: str, index: int, questions: list[tuple[str, str]], result: Result,
                   timeout_ms: int) -> None:
    context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    page.on("pageerror", lambda exc: result.errors.append(f"session {index}: JavaScript error: {exc}"))
    page.on("dialog", lambda d: (result.errors.append(f"session {index}: dialog {d.message!r}"),
                                 asyncio.ensure_future(d.dismiss())))
    try:
        await page.goto(url, timeout=timeout_ms)
        await page.wait_for_selector(CHAT_BOX, state="visible", timeout=timeout_ms)
        for question, shows in questions:
            await page.wait_for_function(f"() => !document.querySelector('{CHAT_BOX}').disabled", timeout=timeout_ms)
            await page.fill(CHAT_BOX, question)
            await page.evaluate(ANSWER_TIMER_JS, [CHAT_BOX, shows])
            await page.press(CHAT_BOX, "Enter")
            try:
                await page.wait_for_function("() => window.__t.shown !== null", timeout=timeout_ms)
            except Exception:
                state = await page.evaluate("JSON.stringify(window.__t)")
                last = await page.locator('[data-testid="stChatMessage"]').last.text_content()
                raise TimeoutError(f"no answer to {question!r} on screen; timer {state}; "
                                   f"last message {(last or '')[:150]!r}") from None
            result.answer_ms.append(await page.evaluate("window.__t.shown - window.__t.enter"))
        problems = await page.locator(PROBLEMS).count()
        if problems:
            text = await page.locator(PROBLEMS).first.inner_text()
            result.errors.append(f"session {index}: {problems} error box(es) on the page: {text[:200]!r}")
    except Exception as exc:  # noqa: BLE001 — a timeout or a crash is an error of the run, counted
        result.errors.append(f"session {index}: {type(exc).__name__}: {str(exc).splitlines()[0][:400]}")
    finally:
        await context.close()


async def _drive(url: str, result: Result, plan: list[list[tuple[str, str]]], timeout_s: float) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            per_wait = int(min(60.0, timeout_s) * 1000)
            await asyncio.wait_for(
                asyncio.gather(*(_session(browser, url, i, qs, result, per_wait) for i, qs in enumerate(plan))),
                timeout=timeout_s)
        except asyncio.TimeoutError:
            result.errors.append(f"the run did not finish in {timeout_s:.0f} s")
        finally:
            await browser.close()


def run(sessions: int = 10, questions: int = 5, timeout_s: float = 180.0, out=print) -> Result:
    """Start the app, drive `sessions` concurrent sessions of `questions` questions each, stop it."""
    from beian.feedback import FeedbackLog

    pool = pick_questions(sessions * questions)
    plan = [pool[i * questions:(i + 1) * questions] for i in range(sessions)]
    result = Result(sessions, questions)
    with tempfile.TemporaryDirectory(prefix="beian-load-") as tmp, streamlit_server(Path(tmp)) as server:
        start, cpu = time.perf_counter(), _cpu_seconds(server.proc.pid)
        result.server_ready_s = start - server.started
        asyncio.run(_drive(server.url, result, plan, timeout_s))
        result.wall_s = time.perf_counter() - start
        result.server_cpu_s = _cpu_seconds(server.proc.pid) - cpu
        try:
            result.logged = FeedbackLog(Path(tmp) / "feedback.sqlite3").stats().total
        except Exception as exc:  # noqa: BLE001
            result.errors.append(f"the question log cannot be read: {exc}")
        if result.logged != sessions * questions:
            result.errors.append(f"{result.logged} questions logged, {sessions * questions} asked")
        if server.proc.poll() is not None:
            result.errors.append(f"streamlit exited during the run ({server.proc.returncode})")
    for line in result.lines():
        out(line)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions (default 10)")
    parser.add_argument("--questions", type=int, default=5, help="questions each session asks (default 5)")
    parser.add_argument("--timeout", type=float, default=180.0, help="the whole run, in seconds (default 180)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"chromium not found at {CHROMIUM} (apt-get install chromium; never `playwright install`)", file=sys.stderr)
        return 2
    result = run(args.sessions, args.questions, args.timeout)
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
