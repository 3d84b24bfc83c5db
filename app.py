"""备案助手 — the Streamlit page. A thin layer over the engine in `beian/`: it loads the cached
knowledge base and index, lays out the tabs, and translates engine errors once.

    streamlit run app.py
"""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from beian.errors import ContentError
from beian.presenters import escape_markdown
from ui import admin, chat, check, guide
from ui.common import ADMIN, CHAT, CHECK, GUIDE, TAB_KEY
from ui.engine import get_engine, show_log_notice_once

st.set_page_config(
    page_title="备案助手 · 阿里云二级域名备案",
    page_icon=str(Path(__file__).parent / "ui" / "icon.png"),  # local: a material icon would load from a CDN
    layout="centered",
    menu_items={"About": "备案助手：阿里云二级域名 ICP 备案的问答、指南与资格自查。内容来自备案指南与核实过的事实表。"},
)

try:
    engine = get_engine()
except ContentError as exc:
    st.error("知识库内容没有通过校验，问答暂时不可用。请修正以下问题，保存后刷新页面即可：\n\n"
             + "\n".join(f"- {escape_markdown(str(p))}" for p in exc.problems))
    st.stop()
except Exception:  # noqa: BLE001 — never show a traceback to a user
    logging.getLogger("beian.app").exception("could not load the knowledge base")
    st.error("知识库加载失败，请稍后再试；详情见服务器日志。")
    st.stop()

chat.init_state()
chat.take_deep_link()

st.title("备案助手", anchor=False)
st.caption("阿里云二级域名 ICP 备案：问答 · 指南 · 资格自查。每个回答都注明来源；指南中过时的地方会标出更正。")

token = admin.configured_token()
labels = [CHAT, GUIDE, CHECK] + ([ADMIN] if token else [])
tabs = dict(zip(labels, st.tabs(labels, key=TAB_KEY, on_change="rerun", bind="query-params")))

if tabs[CHAT].open:
    with tabs[CHAT]:
        chat.render(engine)
    chat.render_input()
if tabs[GUIDE].open:
    with tabs[GUIDE]:
        guide.render(engine.kb)
if tabs[CHECK].open:
    with tabs[CHECK]:
        check.render(engine.kb)
if token and tabs[ADMIN].open:
    with tabs[ADMIN]:
        admin.render(engine.kb, token)

show_log_notice_once()
