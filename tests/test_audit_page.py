"""The audit log page reads as sentences: who did what to which object, what changed."""

from __future__ import annotations

from essays.platform.audit import record
from essays.platform.audit_text import changes, sentence, value_text


def test_a_change_reads_before_and_after_in_words():
    found = changes({"phase": "open", "char_limit": 3000, "title": "同"}, {"phase": "intake_closed",
                                                                          "char_limit": 2500, "title": "同"})
    assert [(c.field, c.before, c.after) for c in found] == [("阶段", "收稿中", "收稿截止"),
                                                            ("字数上限", "3000", "2500")]
    assert [(c.field, c.before, c.after) for c in changes(None, {"late": True, "authors": ["张三", "李四"]})] == [
        ("逾期", None, "是"), ("作者", None, "张三、李四")]
    assert value_text("reason", "长" * 100).endswith("…") and value_text("x", None) == "（空）"
    assert sentence("王科长（boss）", "变更活动阶段", "competition", "3") == "王科长（boss） 变更活动阶段：征文活动 #3"


def test_the_page_shows_sentences_with_the_raw_record_one_click_away(client, auth, make, session):
    admin = make.user("admin", username="boss", display_name="王科长")
    competition = make.competition()
    record(session, "competition.phase", actor=admin, obj=competition, before={"phase": "open"},
           after={"phase": "intake_closed"})
    record(session, "review.recheck", actor=admin, object_type="score", object_id=7,
           after={"outcome": "kept", "reason": "确有抄袭"})
    auth.login("boss")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert f"王科长（boss） 变更活动阶段：征文活动 #{competition.id}" in page and "阶段：收稿中 → 收稿截止" in page
    assert "王科长（boss） 复议评分：评分 #7" in page and "复议结论：维持" in page
    assert "<summary>原始记录</summary>" in page and "competition.phase competition" in page
