"""内容维护: what users asked, what went unanswered, which answers got 👎 — for content editors.

It shows what users typed, so it exists only when an admin token is configured
($BEIAN_ADMIN_TOKEN or st.secrets["BEIAN_ADMIN_TOKEN"]) and opens only when that token is typed
(compared in constant time). Query parameters never open it. User text is shown only through
widgets that render plain text (dataframes, selectbox options, st.text, st.code)."""
from __future__ import annotations

import hashlib
import hmac
import os

import streamlit as st

from beian.kb import KnowledgeBase
from beian.presenters import group_similar, phrasing_snippet, rows_to_csv

from .engine import log_safely

AUTH_KEY = "_admin_auth"  # holds a digest of the token that was entered, not the token


def configured_token() -> str | None:
    token = os.environ.get("BEIAN_ADMIN_TOKEN")
    if not token:
        try:
            token = st.secrets.get("BEIAN_ADMIN_TOKEN")
        except Exception:  # noqa: BLE001 — no secrets file is the normal case
            token = None
    token = str(token).strip() if token is not None else ""
    return token or None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_authenticated(token: str) -> bool:
    """True if this session entered `token` (a rotated token logs everyone out)."""
    held = st.session_state.get(AUTH_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, _digest(token))


def _login(token: str) -> None:
    st.markdown("这一页显示用户输入的原始问题，仅供内容维护人员使用。")
    with st.form("admin-login", clear_on_submit=True, enter_to_submit=True):
        entered = st.text_input("管理口令", type="password", key="admin_token_input")
        submitted = st.form_submit_button("进入", icon=":material/lock_open:")
    if submitted:
        if hmac.compare_digest((entered or "").encode("utf-8"), token.encode("utf-8")):
            st.session_state[AUTH_KEY] = _digest(token)
            st.rerun()
        else:
            st.error("口令不正确。")


def _logout() -> None:
    st.session_state.pop(AUTH_KEY, None)


def _when(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("+00:00")


def _entry_label(kb: KnowledgeBase, entry_id: str | None) -> str:
    if not entry_id:
        return ""
    entry = kb.entry(entry_id)
    return f"{entry_id}（{entry.title}）" if entry else entry_id


def render(kb: KnowledgeBase, token: str | None) -> None:
    if not token:
        return
    if not is_authenticated(token):
        _login(token)
        return

    st.button("退出维护模式", key="admin-logout", on_click=_logout, icon=":material/logout:", type="tertiary")
    stats = log_safely(lambda fl: fl.stats())
    if stats is None:
        st.error("问答记录无法读取（见服务器日志）。已有记录不会被改动；修复后刷新即可。")
        return
    cols = st.columns(4)
    cols[0].metric("提问总数", stats.total)
    cols[1].metric("未回答", stats.unanswered)
    cols[2].metric(":material/thumb_up: 有用", stats.thumbs_up)
    cols[3].metric(":material/thumb_down: 没用", stats.thumbs_down)

    recent = log_safely(lambda fl: fl.recent(200)) or []
    unanswered = log_safely(lambda fl: fl.unanswered(2000)) or []
    disliked = log_safely(lambda fl: fl.disliked(500)) or []

    st.subheader("最近的提问")
    if recent:
        st.dataframe(
            [{"时间（UTC）": _when(r.asked_at), "问题": r.question, "已回答": "是" if r.answered else "否",
              "条目": r.entry_id or r.suggestion or "", "匹配度": round(r.score, 1),
              "反馈": {1: "有用", 0: "没用"}.get(r.feedback, "")} for r in recent],
            hide_index=True, key="admin-recent",
        )
    else:
        st.caption("还没有记录。")

    st.subheader("未回答的问题（按相似度分组）")
    groups = group_similar(unanswered)
    if not groups:
        st.caption("没有未回答的问题。")
    else:
        st.dataframe(
            [{"次数": g.count, "代表问题": g.representative, "相似说法": " ／ ".join(g.questions[1:]),
              "最接近的条目": _entry_label(kb, g.suggestion)} for g in groups],
            hide_index=True, key="admin-groups",
        )
        index = st.selectbox("为哪一组生成 YAML", options=range(len(groups)),
                             format_func=lambda i: f"（{groups[i].count} 次）{groups[i].representative}",
                             key="admin-group-pick")
        group = groups[index or 0]
        question = st.selectbox("选用哪种说法", options=group.questions, key=f"admin-wording-{index}")
        st.caption("把这一行粘贴到对应条目的 questions: 下，运行 `python -m beian validate` 后保存即可生效：")
        st.code(phrasing_snippet(question, group.suggestion, kb.locations.get(group.suggestion or "")),
                language="yaml")

    st.subheader("被标为“没用”的回答 :material/thumb_down:")
    if disliked:
        st.dataframe(
            [{"时间（UTC）": _when(r.asked_at), "问题": r.question, "回答的条目": _entry_label(kb, r.entry_id),
              "匹配度": round(r.score, 1)} for r in disliked],
            hide_index=True, key="admin-disliked",
        )
    else:
        st.caption("还没有被标为“没用”的回答。")

    st.subheader("导出")
    all_rows = log_safely(lambda fl: fl.all()) or []
    st.download_button("导出全部记录（CSV）", data=rows_to_csv([r.to_row() for r in all_rows]),
                       file_name="beian-questions.csv", mime="text/csv", key="admin-csv",
                       icon=":material/download:", on_click="ignore")
