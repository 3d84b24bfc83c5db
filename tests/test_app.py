"""The Streamlit page, tab by tab, through streamlit.testing.v1.AppTest (no browser)."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from beian.feedback import FeedbackLog

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
HOSTILE = "<img src=x onerror=alert(1)> [点我](http://evil.example/x) ![i](http://evil.example/i.png) **粗** :red[红] $x$"


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path: Path):
    """Each test: its own feedback database, no admin token, the project's own content."""
    monkeypatch.setenv("BEIAN_DATA_DIR", str(tmp_path / "data"))
    for var in ("BEIAN_DB", "BEIAN_ADMIN_TOKEN", "BEIAN_CONTENT_ROOT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> FeedbackLog:
    return FeedbackLog(tmp_path / "data" / "feedback.sqlite3")


def new_app(tab: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if tab:
        at.session_state["tab"] = tab
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="chat_prompt").set_value(question)
    return ok(at.run())


def assistant_messages(at: AppTest):
    return [m for m in at.chat_message if m.name == "assistant"]


def user_texts(at: AppTest) -> list[str]:
    return [m.text[0].value for m in at.chat_message if m.name == "user"]


def markdown_of(block) -> str:
    return "\n".join(m.value for m in block.markdown)


@pytest.fixture(scope="module")
def engine():
    import beian.eligibility  # noqa: F401
    from beian.kb import load_kb
    from beian.matcher import Matcher

    kb = load_kb(ROOT)
    return kb, Matcher.build(kb)


# -- chat ----------------------------------------------------------------------------------------

def test_empty_chat_shows_examples_and_input():
    at = ok(new_app())
    assert [t.label for t in at.tabs] == ["智能问答", "备案指南", "资格自查"]
    assert at.chat_input(key="chat_prompt")
    examples = [b for b in at.button if b.key and b.key.startswith("example-")]
    assert len(examples) >= 3
    assert not at.chat_message


def test_every_example_question_is_answered(engine):
    from ui.chat import EXAMPLES

    _, matcher = engine
    for question in EXAMPLES:
        assert matcher.ask(question).answered, question


def test_ask_shows_title_answer_source_confidence_and_feedback(engine, db):
    kb, _ = engine
    entry = kb.entry("faq-subdomain-separate-filing")
    at = ask(new_app(), entry.title)
    assert user_texts(at) == [entry.title]
    (reply,) = assistant_messages(at)
    text = markdown_of(reply)
    assert entry.title in text
    assert entry.answer.strip().splitlines()[0][:20] in text
    captions = " ".join(c.value for c in reply.caption)
    assert "来源" in captions and "匹配度" in captions
    assert reply.feedback  # 👍/👎 on the answer
    (row,) = db.recent()
    assert (row.question, row.answered, row.entry_id, row.origin) == (entry.title, True, entry.id, "typed")
    assert row.score > 0


def test_example_button_asks_it(db):
    at = new_app()
    at.button(key="example-0").click()
    at = ok(at.run())
    from ui.chat import EXAMPLES

    assert user_texts(at) == [EXAMPLES[0]]
    assert db.recent()[0].origin == "example"


def test_answer_shows_its_correction_visibly(engine):
    kb, _ = engine
    corrected = next(e for e in kb.entries if kb.corrections_for(e.id))
    at = ask(new_app(), corrected.title)
    (reply,) = assistant_messages(at)
    warnings = [w.value for w in reply.warning]
    assert warnings and all("指南更正" in w and "来源" in w and "可信度" in w and "核实日期" in w for w in warnings)
    corr = kb.corrections_for(corrected.id)[0]
    assert any(corr.checked.isoformat() in w for w in warnings)


def test_related_question_button_asks_it(engine, db):
    kb, _ = engine
    entry = next(e for e in kb.entries if e.related)
    at = ask(new_app(), entry.title)
    related = [b for b in assistant_messages(at)[0].button if b.key.startswith("related-")]
    assert related
    label = related[0].label
    related[0].click()
    at = ok(at.run())
    assert user_texts(at) == [entry.title, label]
    assert label in markdown_of(assistant_messages(at)[1])
    assert db.recent()[0].origin == "related"


def test_declined_question_offers_suggestions_that_ask_when_clicked(db):
    # too vague to answer, close to several entries (an off-topic question gets no suggestions)
    at = ask(new_app(), "网站备案问题咨询")
    (reply,) = assistant_messages(at)
    assert "您是不是想问" in markdown_of(reply)
    suggestions = [b for b in reply.button if b.key.startswith("suggestion-")]
    assert suggestions
    assert reply.feedback  # feedback on declined answers too
    assert db.recent()[0].answered is False
    title = suggestions[0].label
    suggestions[0].click()
    at = ok(at.run())
    assert user_texts(at)[-1] == title
    last = assistant_messages(at)[-1]
    assert title in markdown_of(last)
    assert db.recent()[0].origin == "suggestion" and db.recent()[0].answered


def test_a_question_about_another_product_is_told_it_is_not_a_filing_question(db):
    # close to an out-of-scope example (knowledge/out_of_scope.yaml), far from every entry
    at = ask(new_app(), "商标注册审核要多久啊")
    (reply,) = assistant_messages(at)
    assert "不是 ICP 备案的问题" in markdown_of(reply)
    assert db.recent()[0].answered is False and db.recent()[0].reason == "out_of_scope"


def test_feedback_is_recorded_against_the_question(engine, db):
    kb, _ = engine
    at = ask(new_app(), kb.entry("faq-fee").title)
    at.feedback(key=at.feedback[0].key).set_value(0)
    at = ok(at.run())
    (row,) = db.recent()
    assert row.feedback == 0 and row.entry_id == "faq-fee"
    assert "感谢反馈" in " ".join(c.value for c in assistant_messages(at)[0].caption)
    at.feedback[0].set_value(1)
    at = ok(at.run())
    assert db.get(row.id).feedback == 1
    at.session_state["tab"] = "备案指南"  # the chat is not rendered while another tab is open…
    at = ok(at.run())
    at.session_state["tab"] = "智能问答"
    at = ok(at.run())
    assert at.feedback[0].value == 1  # …and its thumbs survive the trip
    assert db.get(row.id).feedback == 1


def test_user_text_is_shown_as_plain_text_only():
    at = ask(new_app(), HOSTILE)
    assert user_texts(at) == [HOSTILE]  # st.text: no Markdown, no HTML
    everything = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    assert "](http://evil.example" not in everything and "<img" not in everything


@pytest.mark.parametrize("question", [
    " ", "\u200b\u200b", "吗", "?" * 3, "备案" * 20_000, "\x00\x01\x1b[31m", "\u202e备案要多久", "🙂" * 50,
    "'); DROP TABLE questions; --", "```\n备案\n```", "<script>alert(1)</script>", "{{7*7}} ${7*7} %s %n",
])
def test_odd_questions_never_break_the_chat(question, db):
    at = ask(new_app(), question)
    assert not [m for m in at.chat_message if m.name == "assistant" and m.error]
    if question.strip():
        assert assistant_messages(at) or not question.strip("\u200b")


def test_deep_link_asks_once(db, engine):
    kb, _ = engine
    title = kb.entry("faq-fee").title
    at = ok(new_app(q=title))
    assert user_texts(at) == [title]
    assert db.recent()[0].origin == "link"
    at = ok(at.run())  # a rerun (any interaction) does not ask again
    assert user_texts(at) == [title]
    assert len(db.recent()) == 1


def test_deep_link_switches_to_the_chat_tab():
    at = ok(new_app(tab="备案指南", q="备案要多久"))
    assert at.session_state["tab"] == "智能问答"
    assert len(user_texts(at)) == 1


def test_history_keeps_the_last_questions(monkeypatch):
    import ui.chat

    monkeypatch.setattr(ui.chat, "MAX_MESSAGES", 4)
    at = new_app()
    for q in ("备案要多久", "备案要钱吗", "个人备案材料"):
        at = ask(at, q)
    assert user_texts(at) == ["备案要钱吗", "个人备案材料"]


def test_clear_chat():
    at = ask(new_app(), "备案要多久")
    at.button(key="clear-chat").click()
    at = ok(at.run())
    assert not at.chat_message
    assert any(b.key == "example-0" for b in at.button)


def test_a_broken_log_never_stops_an_answer(monkeypatch, tmp_path: Path):
    bad = tmp_path / "corrupt.sqlite3"
    garbage = b"not a database\n" * 64
    bad.write_bytes(garbage)
    monkeypatch.setenv("BEIAN_DB", str(bad))
    at = ask(new_app(), "二级域名需要单独备案吗")
    assert assistant_messages(at) and markdown_of(assistant_messages(at)[0])
    assert [t.value for t in at.toast] and "无法保存" in at.toast[0].value
    at.feedback[0].set_value(1)
    at = ok(at.run())
    at = ask(at, "备案要多久")
    assert not at.toast  # the notice is shown once
    assert bad.read_bytes() == garbage


# -- guide ---------------------------------------------------------------------------------------

def test_guide_steps_in_order_each_expandable(engine):
    kb, _ = engine
    at = ok(new_app(tab="备案指南"))
    labels = [e.label for e in at.expander]
    positions = [next(i for i, label in enumerate(labels) if step.title in label) for step in kb.steps]
    assert len(kb.steps) == 6 and positions == sorted(positions)


def test_guide_materials_checklist_progress_and_download(engine):
    kb, _ = engine
    at = ok(new_app(tab="备案指南"))
    assert at.segmented_control(key="guide_subject").value == "enterprise"
    enterprise = kb.entry("materials-enterprise")
    first = enterprise.items[0]
    assert at.checkbox(key=f"mat:{enterprise.id}/{first.id}")
    at.checkbox(key=f"mat:{enterprise.id}/{first.id}").check()
    at = ok(at.run())
    progress = at.get("progress")[0]
    assert progress.proto.value > 0
    download = at.get("download_button")[0]
    assert "下载清单" in download.proto.label
    at.segmented_control(key="guide_subject").set_value("individual")
    at = ok(at.run())
    individual = kb.entry("materials-individual")
    assert at.checkbox(key=f"mat:{individual.id}/{individual.items[0].id}")
    assert not [c for c in at.checkbox if c.key == f"mat:{enterprise.id}/{first.id}"]


def test_checklist_markdown_marks_what_is_checked(engine):
    from beian.presenters import checklist_markdown, materials_for

    kb, _ = engine
    entries = materials_for(kb.of_kind("materials"), "individual")
    first = entries[0]
    text = checklist_markdown(entries, "individual", {f"{first.id}/{first.items[0].id}"})
    assert "（个人）" in text and f"- [x] {' '.join(first.items[0].text.split())}" in text and "- [ ] " in text


def test_guide_notes_table_and_corrections_beside_entries(engine):
    kb, _ = engine
    at = ok(new_app(tab="备案指南"))
    (table,) = at.table
    assert table.value.shape[0] == len(kb.of_kind("note"))
    assert len(at.warning) >= 1 and all("指南更正" in w.value for w in at.warning)


def test_guide_faq_filter(engine):
    kb, _ = engine
    at = ok(new_app(tab="备案指南"))
    faqs = kb.of_kind("faq")
    before = [e.label for e in at.expander if e.label in {f.title for f in faqs}]
    assert len(before) == len(faqs)
    at.text_input(key="faq_filter").input("收费")
    at = ok(at.run())
    after = [e.label for e in at.expander if e.label in {f.title for f in faqs}]
    assert 0 < len(after) < len(faqs)
    assert kb.entry("faq-fee").title in after
    at.text_input(key="faq_filter").input("这个词不会出现在任何问题里qqq")
    at = ok(at.run())
    assert any("没有找到" in i.value for i in at.info)


# -- eligibility ---------------------------------------------------------------------------------

def submit_check(at: AppTest, domain: str, server="mainland", main_filed="other", same_subject="yes") -> AppTest:
    at.text_input(key="check_domain").input(domain)
    at.selectbox(key="check_server").set_value(server)
    at.selectbox(key="check_main_filed").set_value(main_filed)
    at.radio(key="check_same_subject").set_value(same_subject)
    at.form_submit_button[0].click()
    return ok(at.run())


def test_eligibility_form_gives_a_verdict_card_with_reasons_and_steps():
    at = submit_check(ok(new_app(tab="资格自查")), "https://Blog.Example.com/path")
    assert [w.value for w in at.warning if "接入备案" in w.value]
    texts = "\n".join(m.value for m in at.markdown)
    assert "判断依据" in texts and "接下来要做的事" in texts
    assert any("来源" in c.value for c in at.caption)
    next_steps = [c for c in at.checkbox if c.key.startswith("next-")]
    assert next_steps
    guide_links = [b for b in at.button if b.key.startswith("verdict-")]
    assert guide_links
    step_title = guide_links[0].label.split("：", 1)[1]
    guide_links[0].click()
    at = ok(at.run())
    assert at.session_state["tab"] == "备案指南"
    opened = [e.label for e in at.expander if e.proto.expanded]
    assert opened == [step_title]  # the step concerned, open in the guide


@pytest.mark.parametrize("args, kind", [
    (("blog.example.com", "mainland", "alibaba"), "success"),
    (("blog.example.com", "hk", "no"), "info"),
    (("a.example.io", "mainland", "no"), "error"),
])
def test_verdict_colour_follows_the_verdict(args, kind):
    at = submit_check(ok(new_app(tab="资格自查")), *args)
    assert len(getattr(at, kind)) == 1


def test_eligibility_bad_input_is_an_error_message_not_a_traceback():
    at = submit_check(ok(new_app(tab="资格自查")), "<img src=x onerror=alert(1)>")
    (err,) = at.error
    assert "img" in err.value and not re.search(r"(?<!\\)<", err.value)  # quotes the input, escaped
    at = submit_check(at, "   ")
    assert at.error


# -- maintainers ---------------------------------------------------------------------------------

def test_admin_is_hidden_without_a_token():
    at = ok(new_app(admin="1", token="anything", tab="内容维护"))
    assert "内容维护" not in [t.label for t in at.tabs]
    assert not at.dataframe


def test_admin_needs_the_token_and_a_wrong_one_reveals_nothing(monkeypatch, db):
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", "s3cret-token")
    db.log_question("我家猫会备案吗", answered=False, reason="low_score", suggestion="faq-fee")
    at = ok(new_app(tab="内容维护", token="s3cret-token", admin="1"))  # query params never open it
    assert "内容维护" in [t.label for t in at.tabs]
    assert not at.dataframe and not at.metric
    at.text_input(key="admin_token_input").input("wrong")
    at.form_submit_button[0].click()
    at = ok(at.run())
    assert [e.value for e in at.error] == ["口令不正确。"]
    assert not at.dataframe and not at.metric and not at.code


def test_admin_dashboard_with_the_right_token(monkeypatch, db, engine):
    kb, _ = engine
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", "s3cret-token")
    at = ask(new_app(), kb.entry("faq-subdomain-separate-filing").title)
    at.feedback[0].set_value(0)
    at = ok(at.run())
    for q in ("我家猫会备案吗", "我家的猫会备案吗？", "=cmd|' /C calc'!A0"):
        db.log_question(q, answered=False, reason="low_score", suggestion="faq-fee")
    at.session_state["tab"] = "内容维护"
    at = ok(at.run())
    at.text_input(key="admin_token_input").input("s3cret-token")
    at.form_submit_button[0].click()
    at = ok(at.run())
    assert [m.label for m in at.metric][0] == "提问总数"
    assert at.metric[0].value == "4"
    assert len(at.dataframe) == 3  # recent, unanswered groups, 👎
    groups = at.dataframe[1].value
    assert int(groups.iloc[0]["次数"]) == 2  # the two cat questions are one group
    (code,) = at.code
    assert code.value.rstrip().endswith("- 我家猫会备案吗") and "faq-fee" in code.value
    disliked = at.dataframe[2].value
    assert list(disliked["回答的条目"])[0].startswith("faq-subdomain-separate-filing")
    csv = at.get("download_button")[-1]
    assert "CSV" in csv.proto.label


def test_admin_token_from_secrets(db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["BEIAN_ADMIN_TOKEN"] = "from-secrets"
    at.session_state["tab"] = "内容维护"
    at = ok(at.run())
    at.text_input(key="admin_token_input").input("from-secrets")
    at.form_submit_button[0].click()
    at = ok(at.run())
    assert at.metric


# -- content errors and reloading ----------------------------------------------------------------

def test_broken_content_shows_the_problems_not_a_traceback(monkeypatch, content_copy: Path):
    faq = content_copy / "faq" / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("  - id: faq-fee", "  - id: Faq_Fee", 1), encoding="utf-8")
    monkeypatch.setenv("BEIAN_CONTENT_ROOT", str(content_copy))
    at = ok(new_app())
    (err,) = at.error
    shown = err.value.replace("\\", "")  # as rendered: the lines are Markdown-escaped
    assert "faq/faq.yaml:" in shown and "faq[id=Faq_Fee] › id" in shown
    assert not at.tabs and not at.chat_input


def test_edited_content_reloads(monkeypatch, content_copy: Path, engine):
    kb, _ = engine
    monkeypatch.setenv("BEIAN_CONTENT_ROOT", str(content_copy))
    at = ok(new_app(tab="备案指南"))
    old = kb.entry("faq-fee").title
    assert old in [e.label for e in at.expander]
    faq = content_copy / "faq" / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace(f"title: {old}", "title: 备案收费吗（已编辑）", 1),
                   encoding="utf-8")
    at = ok(at.run())
    labels = [e.label for e in at.expander]
    assert "备案收费吗（已编辑）" in labels and old not in labels


def test_feedback_rows_are_in_the_configured_directory(tmp_path: Path):
    ask(new_app(), "备案要多久")
    path = tmp_path / "data" / "feedback.sqlite3"
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 1
