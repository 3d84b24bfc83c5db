"""Plain-Python helpers for showing engine results: formatting, escaping, grouping, exports.

No streamlit here (the engine package never imports it); the page in `ui/` calls these so the
logic is testable without a browser.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import yaml

from .models import CONFIDENCE_LABELS

# -- escaping ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=:$&\"'^@/%;?,])")


def escape_markdown(text: str) -> str:
    """Make `text` display literally under Streamlit's Markdown: no links, images, HTML, emoji
    shortcodes (`:smile:`), colour directives (`:red[…]`), LaTeX (`$…$`) or autolinks."""
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    # Leading spaces would start a code block and a bare newline is lost: keep lines as lines.
    return "  \n".join(line.lstrip() for line in escaped.split("\n"))


def is_url(text: str | None) -> bool:
    return bool(text) and bool(re.match(r"^https?://\S+$", text or ""))


def link_markdown(url: str, label: str | None = None) -> str:
    """A Markdown link whose label is escaped and whose target cannot break out of the parens."""
    if not is_url(url):
        return escape_markdown(label or url)
    parts = urlsplit(url)
    shown = label or (parts.netloc + (parts.path if parts.path not in ("", "/") else ""))
    if len(shown) > 70:
        shown = shown[:67] + "…"
    target = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{escape_markdown(shown)}]({target})"


def source_markdown(source: str | None) -> str:
    """'来源：' line for an entry source: a link when it is a URL, the guide section otherwise."""
    if not source:
        return ""
    if is_url(source):
        return f"来源：{link_markdown(source)}"
    return f"来源：{escape_markdown(source)}"


# -- confidence and scores -----------------------------------------------------------------------

def confidence_label(code: str | None) -> str:
    return CONFIDENCE_LABELS.get(code or "", "") if code else ""


def short_confidence(code: str | None) -> str:
    """'高' / '中' / '低' / '未经核实' from H / M / L / UNVERIFIED."""
    return confidence_label(code).split("（")[0]


def score_cue(score: float) -> str:
    """How closely the question matched, in words a user understands."""
    if score >= 85:
        return "非常匹配"
    if score >= 70:
        return "较为匹配"
    return "可能相关"


def answer_caption(score: float, confidence: str | None) -> str:
    """The confidence cue under an answer: match score, and the fact-sheet confidence if any."""
    parts = [f"匹配度 {round(float(score))}/100（{score_cue(score)}）"]
    if confidence:
        parts.append(f"内容可信度：{confidence_label(confidence)}")
    return " · ".join(parts)


DECLINE_TEXT = {
    "empty": "请输入一个问题，例如「二级域名需要单独备案吗？」",
    "too_vague": "这个问题有点笼统，我不确定你想了解哪一方面。",
    "low_score": "抱歉，这个问题我没有把握回答：它可能不在备案助手的范围内。",
    "out_of_scope": "这个问题看起来不是 ICP 备案的问题（更像云产品使用、域名注册、其他资质或别的话题），"
                    "备案助手回答不了。云产品和账号的问题可以查阅阿里云帮助中心或提交工单。",
    "ambiguous": "这个问题可能对应好几个主题，我不想猜错。",
}


def decline_text(reason: str) -> str:
    return DECLINE_TEXT.get(reason, DECLINE_TEXT["low_score"])


def format_answer(a) -> str:
    """The readable form of an answer.Answer for people at a terminal (`python -m beian ask`)."""
    lines = []
    if a.notice:
        lines.append(f"（{a.notice}）")
    if a.answered:
        conf = f"，可信度 {a.confidence}" if a.confidence else ""
        lines += [f"【{a.title}】（{a.id}，匹配度 {a.score:g}{conf}）", "", (a.answer or "").rstrip(), "", f"来源：{a.source}"]
        for c in a.corrections:
            lines += ["", f"⚠ 更正（{c.id}，可信度 {c.confidence}，核实于 {c.checked}）",
                      f"  指南原文：{c.guide_says}", "  " + c.correction.strip().replace("\n", "\n  "),
                      "  来源：" + "；".join(c.sources)]
        if a.related:
            lines += ["", "相关问题："] + [f"  - {r.title}（{r.id}）" for r in a.related]
        if a.suggestions:
            lines += ["", "其他可能相关："] + [f"  - {s.title}（{s.id}，{s.score:g}）" for s in a.suggestions]
    else:
        lines.append(decline_text(a.reason))  # the same wording the chat shows
        if a.suggestions:
            lines += ["您是不是想问："] + [f"  {i}. {s.title}（{s.id}，{s.score:g}）" for i, s in enumerate(a.suggestions, 1)]
        else:
            lines.append("可以换个说法再问，例如：二级域名需要单独备案吗？备案审核要多久？")
    return "\n".join(lines)


def correction_markdown(corr) -> str:
    """A correction (models.Correction or answer.CorrectionNote) as Markdown for a warning box.
    The correction text is validated content (Markdown, no raw HTML)."""
    sources = "、".join(link_markdown(s) for s in corr.sources)
    checked = corr.checked.isoformat() if hasattr(corr.checked, "isoformat") else str(corr.checked)
    return (
        f"**指南更正** — 指南原文：{escape_markdown(corr.guide_says)}\n\n"
        f"{corr.correction.strip()}\n\n"
        f"来源：{sources}  \n"
        f"可信度：{confidence_label(corr.confidence)} · 核实日期：{checked}"
    )


_STEP_PREFIX = re.compile(r"^第\s*[一二三四五六七八九十0-9]{1,2}\s*步")


def step_label(step) -> str:
    """'第 4 步 · 上传材料…', without doubling a '第四步：' the title already has."""
    if _STEP_PREFIX.match(step.title):
        return step.title
    return f"第 {step.order} 步 · {step.title}"


# -- materials checklist -------------------------------------------------------------------------

SUBJECT_LABELS = {"enterprise": "企业", "individual": "个人"}
REQUIRED_LABELS = {"always": "必需", "conditional": "视情况", "optional": "可选"}


def materials_for(entries: Iterable, subject: str) -> list:
    """Materials entries that apply to `subject` (its own list and the ones for all subjects)."""
    return [e for e in entries if getattr(e, "subject", None) in (subject, "all")]


def checklist_key(entry_id: str, item_id: str) -> str:
    return f"{entry_id}/{item_id}"


def checklist_progress(entries: Sequence, checked: set[str], *, required_only: bool = False) -> tuple[int, int]:
    """(checked, total) items; with required_only, only the items marked `always`."""
    keys = [checklist_key(e.id, i.id) for e in entries for i in e.items
            if not required_only or i.required == "always"]
    return sum(k in checked for k in keys), len(keys)


def checklist_markdown(entries: Sequence, subject: str, checked: set[str]) -> str:
    """The checklist as a Markdown file to download (GitHub task-list syntax)."""
    done, total = checklist_progress(entries, checked)
    req_done, req_total = checklist_progress(entries, checked, required_only=True)
    label = SUBJECT_LABELS.get(subject, subject)
    lines = [f"# 阿里云二级域名备案材料清单（{label}）", "",
             f"必需材料已准备 {req_done}/{req_total} 项；全部勾选 {done}/{total} 项。", ""]
    for entry in entries:
        lines += [f"## {entry.title}", ""]
        for item in entry.items:
            mark = "x" if checklist_key(entry.id, item.id) in checked else " "
            text = " ".join(item.text.split())
            line = f"- [{mark}] {text}（{REQUIRED_LABELS.get(item.required, item.required)}）"
            if item.note:
                line += f" — {' '.join(item.note.split())}"
            lines.append(line)
        lines += ["", f"来源：{entry.source}", ""]
    lines.append("由备案助手生成；以阿里云备案系统的实际要求为准。")
    return "\n".join(lines) + "\n"


def filter_entries(entries: Iterable, query: str) -> list:
    """Entries whose title, phrasings or answer contain every word of `query` (case-insensitive)."""
    words = [w for w in _fold(query).split() if w]
    out = []
    for e in entries:
        hay = _fold(" ".join((e.title, *e.phrasings, e.answer)))
        if all(w in hay for w in words):
            out.append(e)
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


# -- verdicts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerdictStyle:
    kind: str  # streamlit alert: success | info | warning | error
    icon: str  # a Material Symbols name: bundled with Streamlit, no emoji font or CDN needed
    label: str


VERDICT_STYLES = {
    "not_required": VerdictStyle("info", ":material/public:", "无需 ICP 备案"),
    "no_new_filing": VerdictStyle("success", ":material/check_circle:", "无需新的备案"),
    "access_filing": VerdictStyle("warning", ":material/sync_alt:", "需要办理接入备案"),
    "new_filing": VerdictStyle("warning", ":material/edit_document:", "需要先为域名备案"),
    "not_eligible": VerdictStyle("error", ":material/block:", "目前不能备案"),
}


def verdict_style(code: str) -> VerdictStyle:
    return VERDICT_STYLES.get(code, VerdictStyle("info", ":material/info:", code))


# -- maintainers: grouping, CSV, YAML ------------------------------------------------------------

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_question(text: str) -> str:
    """For grouping only: NFKC, case-folded, punctuation and spaces removed."""
    return _PUNCT.sub("", _fold(text))


@dataclass
class QuestionGroup:
    representative: str
    questions: list[str] = field(default_factory=list)  # distinct wordings, most asked first
    count: int = 0  # how many times any of them was asked
    suggestion: str | None = None  # the most common best-suggestion id


def group_similar(rows: Iterable, *, threshold: float = 70.0) -> list[QuestionGroup]:
    """Group questions by similarity (rapidfuzz ratio on normalised characters: Chinese has no
    spaces, so token scorers would see one token). `rows` have .question and .suggestion.
    Groups come back largest first."""
    from rapidfuzz import fuzz, process

    counts: dict[str, int] = {}
    wording: dict[str, str] = {}
    suggestions: dict[str, dict[str, int]] = {}
    for row in rows:
        key = normalise_question(row.question)
        if not key:
            continue
        counts[key] = counts.get(key, 0) + 1
        wording.setdefault(key, " ".join(row.question.split()))
        if row.suggestion:
            bucket = suggestions.setdefault(key, {})
            bucket[row.suggestion] = bucket.get(row.suggestion, 0) + 1
    keys: list[str] = []  # each group's representative, normalised
    groups: list[QuestionGroup] = []
    tallies: list[dict[str, int]] = []
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        match = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=threshold)
        if match is None:
            keys.append(key)
            groups.append(QuestionGroup(representative=wording[key]))
            tallies.append({})
            index = len(groups) - 1
        else:
            index = match[2]
        groups[index].questions.append(wording[key])
        groups[index].count += counts[key]
        for sid, n in suggestions.get(key, {}).items():
            tallies[index][sid] = tallies[index].get(sid, 0) + n
    out = []
    for group, tally in zip(groups, tallies):
        group.suggestion = max(tally, key=lambda s: (tally[s], s)) if tally else None
        out.append(group)
    return sorted(out, key=lambda g: -g.count)


_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with = + - @ as a formula: what users typed is data.
    return "'" + text if text.startswith(_CSV_FORMULA) else text


def rows_to_csv(rows: Sequence[dict]) -> bytes:
    """CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) of dict rows."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def phrasing_yaml(question: str, *, indent: int = 6) -> str:
    """One YAML list item adding `question` as a phrasing, indented as in the content files
    (`questions:` sits at 4 spaces, its items at 6). Quoted by the YAML library, so a question
    with `: `, `#` or quotes still loads back as the same text."""
    text = " ".join(str(question).split())[:300]
    dumped = yaml.safe_dump([text], allow_unicode=True, default_flow_style=False, width=10_000)
    return " " * indent + dumped.strip()


def phrasing_snippet(question: str, entry_id: str | None = None, location: tuple[str, int | None] | None = None) -> str:
    """The YAML line plus a comment saying where it goes."""
    line = phrasing_yaml(question)
    if entry_id and location:
        path, lineno = location
        where = f"{path}:{lineno}" if lineno else path
        return f"# 粘贴到 {where} 中 id: {entry_id} 的 questions: 列表下\n{line}\n"
    return f"# 粘贴到最合适条目的 questions: 列表下（faq/faq.yaml 或 knowledge/*.yaml）\n{line}\n"
