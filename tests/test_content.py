"""The whole guide is in the knowledge base, with its corrections: what a reader of the guide tab
or an asker would miss if an editor dropped it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from beian.models import Materials, Note, Step

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "source-article.md").read_text(encoding="utf-8")


def _all_text(kb) -> str:
    parts = []
    for e in kb.entries:
        parts += [e.title, e.answer, *e.phrasings]
        if isinstance(e, Note):
            parts += [e.label, e.detail]
        if isinstance(e, Materials):
            parts += [f"{i.text} {i.note or ''}" for i in e.items]
        if isinstance(e, Step):
            parts += [*e.where, e.expect]
    for c in kb.corrections:
        parts += [c.guide_says, c.correction, *c.sources]
    return "\n".join(parts)


def _squash(text: str) -> str:
    return re.sub(r"[\s，,。、“”\"'：:（）()*_`>#|-]+", "", text)


def test_six_steps_in_the_guides_order(kb):
    headings = ["准备备案材料", "登录阿里云备案系统", "填写备案信息", "上传材料与真实性核验", "等待审核", "备案成功与解析"]
    assert [s.order for s in kb.steps] == [1, 2, 3, 4, 5, 6]
    for step, heading in zip(kb.steps, headings):
        assert heading in step.title, (step.id, step.title)


def test_notes_table_rows_are_verbatim(kb):
    rows = re.findall(r"^\| (\S+) \| (.+?) \| $", GUIDE, re.M)
    rows = [(label, detail) for label, detail in rows if label not in ("注意事项", "---")]
    assert len(rows) == 4
    notes = {n.label: n.detail for n in kb.of_kind("note")}
    for label, detail in rows:
        assert label in notes, label
        assert _squash(detail) in _squash(notes[label])


def test_guide_faq_answers_are_kept(kb):
    pairs = re.findall(r"问:(.+?)\s*\n\s*答:(.+?)\n", GUIDE)
    assert len(pairs) == 4
    faq_text = _squash("\n".join(e.title + e.answer for e in kb.of_kind("faq")))
    for question, answer in pairs:
        assert _squash(answer)[:40] in faq_text, question


@pytest.mark.parametrize("fact", [
    # definition and necessity
    "blog.example.com", "shop.example.com", "法律合规", "信任", "支付",
    # the steps' details
    "beian.aliyun.com", "主体认证", "域名认证", "新增网站", "人脸识别", "短信核验", "初审", "通信管理局",
    "20个工作日", "工信部", "DNS",
    # materials
    "营业执照", "法定代表人", "手持身份证", "网站建设方案书", "服务器租赁合同", "域名证书", "前置审批",
    # notes, FAQ
    "黑名单", "公序良俗", "境外服务器", "30日", "不收取费用",
])
def test_every_fact_of_the_guide_is_somewhere(kb, fact):
    assert _squash(fact) in _squash(_all_text(kb))


@pytest.mark.parametrize("fact", [
    "新增接入",          # 4.a main domain filed elsewhere
    "2020",             # 4.b SMS nationwide since 2020-08-17
    "24",               # 4.b 24-hour window
    "备案服务号",        # 4.e access proven by the service number, no lease contract
    "实名",              # 4.f real-name data, not a certificate
    "取消接入",          # 4.j filings can be removed
    "3个月",             # 4.k / 2.6 the ≥3-month subscription
    "beian.mps.gov.cn",  # 5.4 公安备案
    "beian.miit.gov.cn", # 5.2 number shown and linked
    "domain.miit.gov.cn",
])
def test_fact_sheet_section_4_corrections_are_in(kb, fact):
    assert _squash(fact) in _squash(_all_text(kb))


def test_corrections_are_sourced_dated_and_rated(kb):
    assert len(kb.corrections) >= 12
    for c in kb.corrections:
        assert c.sources and all(s.startswith("http") for s in c.sources)
        assert c.confidence in {"H", "M", "L", "UNVERIFIED"}
    corrected = {entry_id for c in kb.corrections for entry_id in c.applies_to}
    # the entries the fact sheet says are wrong or outdated each carry a correction
    for entry_id in ("step-upload-verify", "note-server-location", "materials-website", "materials-individual",
                     "materials-preapproval", "faq-renewal", "faq-fee", "faq-subdomain-count", "subdomain-definition"):
        assert entry_id in corrected, entry_id


def test_unverified_change_timing_is_not_stated_as_certain(kb):
    change = [c for c in kb.corrections if c.confidence == "UNVERIFIED"]
    assert change, "the unverified '30 days' claim needs an UNVERIFIED correction"


def test_every_entry_has_enough_phrasings(kb):
    for e in kb.entries:
        assert len(e.questions) >= 5 and len(e.questions_en) >= 1, e.id
    assert len(kb.entries) >= 30


def test_materials_checklists_cover_both_subject_types(kb):
    subjects = {m.subject for m in kb.of_kind("materials")}
    assert {"enterprise", "individual"} <= subjects
