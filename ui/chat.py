"""智能问答: the chat. History lives in st.session_state; the matcher answers; nothing a user
typed is ever rendered as Markdown or HTML (st.text only)."""
from __future__ import annotations

import uuid

import streamlit as st

from beian.answer import Answer
from beian.errors import BeianError
from beian.presenters import answer_caption, decline_text, escape_markdown, source_markdown

from .common import CHAT, TAB_KEY, show_corrections
from .engine import Engine, log, log_safely

MESSAGES, SEQ, PENDING, SESSION_ID, DEEP_LINK_DONE = "messages", "msg_seq", "pending", "session_id", "deep_link_done"
PROMPT_KEY = "chat_prompt"
MAX_SHOWN_CHARS = 2000  # what we echo of a question if the matcher did not say what it used
MAX_MESSAGES = 40  # the last 20 questions and answers stay on screen; every rerun redraws them

EXAMPLES = (
    "二级域名需要单独备案吗？",
    "主域名在别家备案了，子域名想用阿里云服务器怎么办",
    "备案审核要多久",
    "个人备案要准备什么材料",
    "Does ICP filing cost money?",
)


def init_state() -> None:
    st.session_state.setdefault(MESSAGES, [])
    st.session_state.setdefault(SEQ, 0)
    st.session_state.setdefault(PENDING, None)
    st.session_state.setdefault(SESSION_ID, uuid.uuid4().hex[:12])


def take_deep_link() -> None:
    """?q=… asks that question once per session, on load, in the chat tab."""
    if st.session_state.get(DEEP_LINK_DONE):
        return
    st.session_state[DEEP_LINK_DONE] = True
    q = st.query_params.get("q")
    if q and q.strip():
        st.session_state[PENDING] = (q[:MAX_SHOWN_CHARS], "link")
        st.session_state[TAB_KEY] = CHAT


def queue(question: str, origin: str) -> None:
    """Callback for buttons (examples, suggestions, related questions): ask on this rerun."""
    st.session_state[PENDING] = (question, origin)


def _on_submit() -> None:
    text = st.session_state.get(PROMPT_KEY)
    if isinstance(text, str) and text.strip():
        queue(text, "typed")


def clear_chat() -> None:
    st.session_state[MESSAGES] = []


def _next_id() -> int:
    st.session_state[SEQ] += 1
    return st.session_state[SEQ]


def _ask(engine: Engine, question: str, origin: str) -> dict | None:
    """Ask the matcher and add the exchange to the history; returns the message still to be logged."""
    messages = st.session_state[MESSAGES]
    try:
        answer = engine.matcher.ask(question)
    except Exception as exc:  # noqa: BLE001 — the matcher declines bad input itself; this is a last guard
        if not isinstance(exc, BeianError):
            log.exception("the matcher failed on a question")
        messages.append({"role": "user", "id": _next_id(), "text": question[:MAX_SHOWN_CHARS]})
        messages.append({"role": "error", "id": _next_id(),
                         "text": str(exc) if isinstance(exc, BeianError) else "抱歉，处理这个问题时出错了，请换个说法再试。"})
        del messages[:-MAX_MESSAGES]
        return None
    shown = answer.question or question[:MAX_SHOWN_CHARS]
    messages.append({"role": "user", "id": _next_id(), "text": shown})
    reply = {"role": "assistant", "id": _next_id(), "answer": answer, "row": None, "feedback": None,
             "origin": origin, "question": shown}
    messages.append(reply)
    del messages[:-MAX_MESSAGES]
    return reply


def _log(reply: dict) -> None:
    """Record the exchange (after it is on screen: a slow disk never delays an answer)."""
    session = st.session_state[SESSION_ID]
    reply["row"] = log_safely(lambda fl: fl.log_answer(reply["answer"], origin=reply["origin"], session=session,
                                                       question=reply["question"]))


def _on_feedback(message_id: int) -> None:
    value = st.session_state.get(f"fb-{message_id}")
    for msg in st.session_state[MESSAGES]:
        if msg["id"] == message_id and msg["role"] == "assistant":
            msg["feedback"] = value
            if msg["row"] is None:
                st.session_state["_log_failed"] = True
            else:
                log_safely(lambda fl: fl.set_feedback(msg["row"], value))


def _buttons(items, message_id: int, origin: str) -> None:
    with st.container(horizontal=True, gap="small"):
        for item in items:
            st.button(item.title, key=f"{origin}-{message_id}-{item.id}", on_click=queue,
                      args=(item.title, origin), icon=":material/arrow_forward:", type="secondary")


def _show_answer(msg: dict) -> None:
    answer: Answer = msg["answer"]
    mid = msg["id"]
    if answer.answered:
        st.markdown(f"#### {escape_markdown(answer.title or '')}")
        st.markdown(answer.answer or "")
        show_corrections(answer.corrections)
        st.caption(" · ".join(p for p in (source_markdown(answer.source),
                                          answer_caption(answer.score, answer.confidence)) if p))
        if answer.notice:
            st.caption(escape_markdown(answer.notice))
        if answer.related:
            st.caption("相关问题")
            _buttons(answer.related, mid, "related")
    else:
        st.markdown(decline_text(answer.reason))
        if answer.notice:
            st.caption(escape_markdown(answer.notice))
        if answer.suggestions:
            st.markdown("**您是不是想问…**")
            _buttons(answer.suggestions, mid, "suggestion")
        else:
            st.caption("可以换个说法再问，或到「备案指南」查看完整流程。")
    st.feedback("thumbs", key=f"fb-{mid}", on_change=_on_feedback, args=(mid,), persist_state="session")
    if msg.get("feedback") is not None:
        st.caption("感谢反馈！" if msg["feedback"] == 1 else "感谢反馈，我们会据此改进这条回答。也可以换个说法再问一次。")


def render(engine: Engine) -> None:
    """The chat tab's body (the input itself is pinned at the bottom by `render_input`)."""
    pending = st.session_state.get(PENDING)
    reply = None
    if pending:
        st.session_state[PENDING] = None
        reply = _ask(engine, *pending)

    messages = st.session_state[MESSAGES]
    if not messages:
        st.markdown("你好！我可以回答阿里云**二级域名备案**的问题：要不要备案、怎么备、"
                    "要什么材料、要多久……每个回答都会注明来源。试试这些问题：")
        with st.container(horizontal=True, gap="small"):
            for i, example in enumerate(EXAMPLES):
                st.button(example, key=f"example-{i}", on_click=queue, args=(example, "example"),
                          icon=":material/chat_bubble:")
        return

    for msg in messages:
        if msg["role"] == "user":
            with st.chat_message("user", avatar=":material/person:"):
                st.text(msg["text"])  # plain text: never Markdown or HTML
        elif msg["role"] == "assistant":
            with st.chat_message("assistant", avatar=":material/support_agent:"):
                _show_answer(msg)
        else:
            with st.chat_message("assistant", avatar=":material/support_agent:"):
                st.error(escape_markdown(msg["text"]))
    st.button("清空对话", key="clear-chat", on_click=clear_chat, icon=":material/delete_sweep:", type="tertiary")
    if reply is not None:
        _log(reply)


def render_input() -> None:
    """The chat box, pinned to the bottom of the page (called at the top level, chat tab only)."""
    st.chat_input("输入你的备案问题，按 Enter 发送（中文或英文都可以）", key=PROMPT_KEY, on_submit=_on_submit)
