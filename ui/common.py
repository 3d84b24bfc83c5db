"""Small streamlit pieces shared by the tabs."""
from __future__ import annotations

import streamlit as st

from beian.presenters import confidence_label, correction_markdown, source_markdown

TAB_KEY = "tab"
CHAT, GUIDE, CHECK, ADMIN = "智能问答", "备案指南", "资格自查", "内容维护"
GUIDE_FOCUS_KEY = "guide_focus"


def show_corrections(corrections) -> None:
    """Each correction to the guide, visibly: a warning with its sources, confidence and date."""
    for corr in corrections:
        st.warning(correction_markdown(corr), icon=":material/report:")


def show_source(source: str | None, confidence: str | None = None) -> None:
    parts = [source_markdown(source)] if source else []
    if confidence:
        parts.append(f"可信度：{confidence_label(confidence)}")
    if parts:
        st.caption(" · ".join(parts))


def open_guide_step(step_id: str) -> None:
    """Callback: switch to the guide tab with one step expanded."""
    st.session_state[TAB_KEY] = GUIDE
    st.session_state[GUIDE_FOCUS_KEY] = step_id
    st.session_state[f"guide-step-{step_id}"] = True
