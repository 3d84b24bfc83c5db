"""备案指南: the guide as a reference — overview, the six steps, the materials checklist, the
注意事项 table, the FAQ — with each correction shown beside the entry it corrects."""
from __future__ import annotations

import streamlit as st

from beian.kb import KnowledgeBase
from beian.presenters import (
    REQUIRED_LABELS,
    SUBJECT_LABELS,
    checklist_key,
    checklist_markdown,
    checklist_progress,
    escape_markdown,
    filter_entries,
    materials_for,
    step_label,
)

from .common import GUIDE_FOCUS_KEY, show_corrections, show_source

STEP_ICONS = {n: f":material/counter_{n}:" for n in range(1, 10)}


def _entry_body(kb: KnowledgeBase, entry) -> None:
    st.markdown(entry.answer)
    show_corrections(kb.corrections_for(entry.id))
    show_source(entry.source, entry.confidence)


def _overview(kb: KnowledgeBase) -> None:
    st.subheader("概述", anchor="overview")
    for entry in kb.of_kind("overview"):
        with st.expander(entry.title, icon=":material/info:"):
            _entry_body(kb, entry)


def _steps(kb: KnowledgeBase) -> None:
    st.subheader("六个步骤", anchor="steps")
    st.caption("按顺序办理；点开每一步查看要做什么、在哪里办、会发生什么。")
    focus = st.session_state.get(GUIDE_FOCUS_KEY)
    for step in kb.steps:
        key = f"guide-step-{step.id}"
        with st.expander(step_label(step), key=key, on_change="rerun",
                         expanded=(step.id == focus), icon=STEP_ICONS.get(step.order), type="step"):
            st.markdown(step.answer)
            st.markdown("**在哪里办：** " + "、".join(escape_markdown(w) for w in step.where))
            st.markdown("**会发生什么：** " + step.expect)
            show_corrections(kb.corrections_for(step.id))
            show_source(step.source, step.confidence)


def _materials(kb: KnowledgeBase) -> None:
    st.subheader("材料清单", anchor="materials")
    subject = st.segmented_control(
        "主体类型", options=list(SUBJECT_LABELS), format_func=SUBJECT_LABELS.get, default="enterprise",
        key="guide_subject", required=True, persist_state="session",
    ) or "enterprise"
    entries = materials_for(kb.of_kind("materials"), subject)
    progress_slot = st.empty()
    checked: set[str] = set()
    for entry in entries:
        st.markdown(f"**{escape_markdown(entry.title)}**")
        for item in entry.items:
            key = checklist_key(entry.id, item.id)
            label = f"{item.text}（{REQUIRED_LABELS.get(item.required, item.required)}）"
            if st.checkbox(label, key=f"mat:{key}", help=item.note, persist_state="session"):
                checked.add(key)
        with st.expander(f"关于「{entry.title}」的说明", icon=":material/description:", type="compact"):
            _entry_body(kb, entry)
    done, total = checklist_progress(entries, checked, required_only=True)
    with progress_slot.container():
        st.progress(done / total if total else 0.0,
                    text=f"必需材料已准备 {done}/{total} 项" + ("　✅ 齐了！" if total and done == total else ""))
    st.download_button(
        "下载清单（Markdown）", data=checklist_markdown(entries, subject, checked),
        file_name=f"备案材料清单-{SUBJECT_LABELS[subject]}.md", mime="text/markdown",
        key="download-checklist", icon=":material/download:", on_click="ignore",
    )


def _notes(kb: KnowledgeBase) -> None:
    st.subheader("注意事项", anchor="notes")
    notes = kb.of_kind("note")
    st.table([{"注意事项": n.label, "具体说明": n.detail} for n in notes], hide_index=True)
    for note in notes:
        corrections = kb.corrections_for(note.id)
        if corrections:
            st.markdown(f"**{escape_markdown(note.label)}** 一行的更正：")
            show_corrections(corrections)


def _faq(kb: KnowledgeBase) -> None:
    st.subheader("常见问题", anchor="faq")
    query = st.text_input("筛选常见问题", key="faq_filter", placeholder="输入关键词，例如：收费、多久、个人、接入",
                          persist_state="session", icon=":material/search:")
    faqs = kb.of_kind("faq")
    shown = filter_entries(faqs, query)
    st.caption(f"显示 {len(shown)} / {len(faqs)} 条")
    if not shown:
        st.info("没有找到包含这些关键词的问题。可以换个词，或到「智能问答」直接提问。")
    for entry in shown:
        with st.expander(entry.title, icon=":material/help:"):
            _entry_body(kb, entry)


def render(kb: KnowledgeBase) -> None:
    st.markdown("面向第一次办理备案的同事与站长：流程、材料、注意事项和常见问题。"
                "指南中已过时或不准确之处保留原文，并在旁边用黄色框标出**更正**、来源、可信度与核实日期。")
    _overview(kb)
    _steps(kb)
    _materials(kb)
    _notes(kb)
    _faq(kb)
