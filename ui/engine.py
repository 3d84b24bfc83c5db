"""The engine as the page sees it: the KB + matcher index, cached and keyed by the content's
fingerprint (so an edited YAML reloads), and the feedback log wrapped so a failure never stops
an answer."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from beian.feedback import FeedbackLog
from beian.kb import KnowledgeBase, content_signature, default_root, load_kb
from beian.matcher import Matcher

log = logging.getLogger("beian.app")
T = TypeVar("T")


@dataclass(frozen=True)
class Engine:
    kb: KnowledgeBase
    matcher: Matcher


@st.cache_resource(show_spinner="正在加载知识库…", max_entries=2)
def _build(root: str, signature: tuple) -> Engine:  # (root, signature) is the cache key
    kb = load_kb(root)
    return Engine(kb=kb, matcher=Matcher.build(kb))


def get_engine() -> Engine:
    """The engine for the content as it is on disk now; raises ContentError if it is broken."""
    root = default_root()
    return _build(str(root), content_signature(root))


def feedback_log() -> FeedbackLog:
    return FeedbackLog()  # the path is read from the environment each time: cheap, and testable


LOG_NOTICE = "问答记录暂时无法保存（不影响回答）。"


def log_safely(operation: Callable[[FeedbackLog], T]) -> T | None:
    """Run one log operation; on any failure note it (shown once per session) and return None."""
    try:
        return operation(feedback_log())
    except Exception as exc:  # noqa: BLE001 — logging must never stop an answer
        log.warning("feedback log unavailable: %s", exc)
        st.session_state["_log_failed"] = True
        return None


def show_log_notice_once() -> None:
    """A quiet toast, once per session, if logging failed at some point."""
    if st.session_state.get("_log_failed") and not st.session_state.get("_log_notice_shown"):
        st.session_state["_log_notice_shown"] = True
        st.toast(LOG_NOTICE, icon=":material/cloud_off:")
