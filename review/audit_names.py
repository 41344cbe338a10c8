"""The review's words for the audit page: its actions, objects, fields and named values
(registered by review.init_app; essays.platform.audit_text makes the sentences)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_NAMES = {
    "review.forward_choose": _l("选定报送作品"),
    "review.forward_text": _l("填写推荐表"),
    "review.codes": _l("生成作品编号"),
    "review.redact": _l("处理身份信息"),
    "review.rubric": _l("设置评分细则"),
    "review.assign": _l("分配评委"),
    "review.assign_one": _l("增加评审分配"),
    "review.unassign": _l("取消评审分配"),
    "review.conflict": _l("申报回避"),
    "review.score_submit": _l("提交评分"),
    "review.score_reopen": _l("退回评分"),
    "review.exclude": _l("作品移出评审"),
    "review.recheck": _l("复议评分"),
    "review.remind": _l("提醒评委"),
    "review.rescan": _l("更新作品编号的版本"),
    "review.ranking_rule": _l("设置排名规则"),
    "review.freeze": _l("冻结排名"),
    "review.publish": _l("发布公示"),
    "review.second_round": _l("安排复评"),
    "review.objection": _l("提出异议"),
    "review.objection_answer": _l("答复异议"),
    "review.withdraw": _l("撤销奖项"),
    "review.organisation_award": _l("评定优秀组织奖"),
}

OBJECT_NAMES = {
    "review_code": _l("作品编号"), "identity_hit": _l("身份信息"), "rubric": _l("评分细则"),
    "declared_conflict": _l("申报回避"), "assignment": _l("评审分配"), "score": _l("评分"),
    "reminder": _l("提醒"), "ranking_rule": _l("排名规则"), "rank_entry": _l("名次"),
    "publication": _l("公示"), "objection": _l("异议"), "recommendation": _l("推荐表"),
}
FIELD_NAMES = {
    "code": _l("作品编号"), "codes": _l("作品编号"), "judge_id": _l("评委编号"), "total": _l("总分"),
    "points": _l("分项得分"), "gates": _l("否决项"), "void": _l("作废"), "outcome": _l("复议结论"),
    "answer": _l("答复"), "award": _l("奖项"), "text": _l("内容"), "method": _l("计分方法"),
    "entries": _l("篇数"), "top": _l("报送前 N 名"), "tiers": _l("奖项"), "opinion": _l("单位意见"),
    "on_paper": _l("代录纸质评分"), "starts_at": _l("公示开始"), "ends_at": _l("公示结束"),
}
VALUE_NAMES = {"outcome": {"kept": _l("维持"), "restored": _l("改判")}}
