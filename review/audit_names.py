"""The names of the review's audit actions, for the audit page (registered by review.init_app)."""

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
