"""资格自查: can *this* hostname be filed, and what exactly do I do next? A form over the
eligibility checker; the verdict as a card coloured by verdict, each reason with its source, the
next steps as a checklist, and links to the guide steps concerned."""
from __future__ import annotations

import hashlib

import streamlit as st

from beian import eligibility
from beian.errors import InputError
from beian.kb import KnowledgeBase
from beian.models import Step
from beian.presenters import confidence_label, escape_markdown, link_markdown, step_label, verdict_style

from .common import open_guide_step, show_source

RESULT_KEY = "check_result"

SERVER = {"mainland": "中国内地（大陆）", "hk": "中国香港", "overseas": "其他境外地区"}
MAIN_FILED = {"no": "还没有备案", "alibaba": "已在阿里云备案", "other": "已在其他服务商备案"}
YES_NO = {"yes": "是", "no": "否"}
SUBJECT = {"": "暂不确定", "enterprise": "企业或其他单位", "individual": "个人"}
PREAPPROVAL = {"": "不涉及 / 不确定", "yes": "已取得", "no": "还没有"}
INDUSTRY_NOTE = {"required": "", "cancelled": "（前置审批已取消）", "local": "（以当地管局要求为准）"}

REASON_MARKS = {  # how each kind of reason is introduced
    "blocking": ":red[:material/block: **阻断**]",
    "moot": ":gray[:material/radio_button_unchecked: 仅供参考]",
    "verdict": ":green[:material/check: 依据]",
    "advise": ":blue[:material/lightbulb: 提示]",
}


def _industries(kb: KnowledgeBase) -> dict[str, str]:
    """Industry key -> label, from the rules (the checker owns the list); '' is an ordinary site."""
    out = {"": "一般网站（不涉及前置审批）"}
    out.update({i.key: i.name + INDUSTRY_NOTE.get(i.status, "") for i in eligibility.industries(kb)})
    return out


def _form(kb: KnowledgeBase) -> None:
    industries = _industries(kb)
    with st.form("eligibility", border=True, enter_to_submit=True):
        domain = st.text_input("要备案的域名或网址", key="check_domain", max_chars=2048,
                               placeholder="例如 blog.example.com 或 https://shop.example.cn/",
                               persist_state="session")
        c1, c2 = st.columns(2)
        server = c1.selectbox("网站服务器在哪里", list(SERVER), format_func=SERVER.get, key="check_server",
                              persist_state="session")
        main_filed = c2.selectbox("主域名（如 example.com）的备案情况", list(MAIN_FILED), format_func=MAIN_FILED.get,
                                  key="check_main_filed", persist_state="session")
        same_subject = c1.radio("网站主办者与主域名的实名持有者相同吗", list(YES_NO), format_func=YES_NO.get,
                                key="check_same_subject", horizontal=True, persist_state="session")
        subject = c2.radio("主办者类型", list(SUBJECT), format_func=SUBJECT.get, key="check_subject",
                           horizontal=True, persist_state="session")
        industry = c1.selectbox("网站内容涉及的行业", list(industries), format_func=industries.get,
                                key="check_industry", persist_state="session")
        preapproval = c2.radio("该行业的前置审批", list(PREAPPROVAL), format_func=PREAPPROVAL.get,
                               key="check_preapproval", horizontal=True, persist_state="session")
        submitted = st.form_submit_button("开始自查", type="primary", icon=":material/fact_check:")
    if submitted:
        try:
            verdict = eligibility.check(
                domain=domain, server=server, main_filed=main_filed, same_subject=same_subject,
                subject=subject or None, industry=industry or None, preapproval=preapproval or None, kb=kb,
            )
            st.session_state[RESULT_KEY] = ("ok", verdict.to_json())
        except InputError as exc:
            st.session_state[RESULT_KEY] = ("error", str(exc))


def _sources_line(sources, confidence: str | None) -> str:
    parts = []
    links = [link_markdown(s) if s.startswith(("http://", "https://")) else escape_markdown(s) for s in sources if s]
    if links:
        parts.append("来源：" + "、".join(links))
    if confidence:
        parts.append(f"可信度：{confidence_label(confidence)}")
    return " · ".join(parts)


def _guide_links(kb: KnowledgeBase, entry_ids: list[str], key_prefix: str) -> None:
    steps = sorted((e for e in map(kb.entry, entry_ids) if isinstance(e, Step)), key=lambda s: s.order)
    others = [e for e in map(kb.entry, entry_ids) if e is not None and not isinstance(e, Step)]
    for step in steps:
        st.button(f"在指南中查看：{step_label(step)}", key=f"{key_prefix}-{step.id}", on_click=open_guide_step,
                  args=(step.id,), icon=":material/menu_book:", type="tertiary")
    for entry in others:
        with st.expander(f"相关说明：{entry.title}", icon=":material/menu_book:", type="compact"):
            st.markdown(entry.answer)
            show_source(entry.source, entry.confidence)


def _verdict(kb: KnowledgeBase, data: dict) -> None:
    style = verdict_style(data["verdict"])
    alert = getattr(st, style.kind)
    sig = hashlib.sha1(repr(sorted(data.items(), key=lambda kv: kv[0])).encode()).hexdigest()[:10]
    with st.container(border=True, key="verdict-card"):
        where = (f"`{data['host']}` 是主域名 `{data['main_domain']}` 下的子域名。" if data.get("is_subdomain")
                 else f"`{data['host']}` 本身就是主域名。")
        alert(f"**{data.get('label') or style.label}**\n\n{data.get('summary', '')}  \n{where}", icon=style.icon)
        bits = []
        if data.get("confidence"):
            bits.append(f"结论可信度：{confidence_label(data['confidence'])}")
        if data.get("verdict_if_resolved"):
            resolved = data["verdict_if_resolved"]
            label = eligibility.VERDICT_TEXT.get(resolved, (verdict_style(resolved).label,))[0]
            bits.append(f"解决阻断问题后：{label}")
        if bits:
            st.caption(" · ".join(bits))

        reasons = data.get("reasons") or []
        if reasons:
            st.markdown("**判断依据**")
            for reason in reasons:
                kind = ("blocking" if reason.get("blocking") else "moot" if reason.get("moot")
                        else reason.get("effect", "advise"))
                st.markdown(f"{REASON_MARKS.get(kind, '•')}：{reason['message']}")
                st.caption(_sources_line(reason.get("sources") or [reason.get("source")], reason.get("confidence")))

        steps = data.get("step_details") or [{"text": s} for s in data.get("next_steps") or []]
        if steps:
            st.markdown("**接下来要做的事**（可逐项勾选）")
            for i, step in enumerate(steps):
                st.checkbox(step["text"], key=f"next-{sig}-{i}")

        entries: list[str] = []
        for item in (*reasons, *steps):
            eid = item.get("entry")
            if eid and eid not in entries:
                entries.append(eid)
        if entries:
            st.markdown("**指南中的相关内容**")
            _guide_links(kb, entries, f"verdict-{sig}")


def render(kb: KnowledgeBase) -> None:
    st.markdown("输入要备案的主机名（或直接粘贴网址），回答几个问题，看看需要办理哪种备案、下一步做什么。"
                "结论依据知识库中的规则，每条都注明来源与可信度；最终以阿里云备案系统和当地管局的审核为准。")
    _form(kb)
    result = st.session_state.get(RESULT_KEY)
    if not result:
        return
    kind, payload = result
    if kind == "error":
        st.error(escape_markdown(payload), icon=":material/error:")  # the message quotes what was typed
    else:
        _verdict(kb, payload)
