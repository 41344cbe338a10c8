"""The review's stable error codes with their Chinese messages (README lists them with
essays' own), and the `Refusal` the review raises: essays' Refusal, looking its codes up
here first."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from essays.platform import errors

# code: (HTTP status, message template)
CODES: dict[str, tuple[int, object]] = {
    "REVIEW_PHASE": (409, _l("活动当前处于“%(phase)s”阶段，不能进行这项评审准备工作。")),
    "ASSIGN_NOTHING": (409, _l("没有可分配的作品或评委：请先生成作品编号，并确认有启用的评委账号。")),
    "ASSIGN_CONFLICT": (409, _l("该评委须回避这篇作品（所属单位或申报回避），不能分配。")),
    "REASON_REQUIRED": (400, _l("请填写理由。")),
    "SCORE_LOCKED": (409, _l("该作品的评分已提交，不能再修改。如需更正，请联系政工科退回。")),
    "SCORE_NOT_SUBMITTED": (409, _l("该评分尚未提交，无需退回。")),
    "SCORE_NOT_NUMBER": (400, _l("分数须为数字，如 27 或 27.5。")),
    "SCORE_OUT_OF_RANGE": (400, _l("分数超出范围：须在 0 至该项满分之间。")),
    "SCORE_STEP": (400, _l("分数不符合给分步长（步长为 1 时只能给整数，为 0.5 时只能给整数或 .5）。")),
    "SCORE_MISSING": (400, _l("提交前须给每一项打分。")),
    "GATE_MISSING": (400, _l("提交前须回答每一个否决项（是或否）。")),
    "RUBRIC_TOTAL": (400, _l("各评分项目的分值合计须为 100 分。")),
    "RUBRIC_STEP": (400, _l("给分步长须为 1 或 0.5，且每项分值须是步长的整数倍。")),
    "RUBRIC_POINTS": (400, _l("每个评分项目的分值须为大于 0 的数。")),
    "RUBRIC_EMPTY_NAME": (400, _l("评分项目须有名称。")),
    "RUBRIC_DUPLICATE_NAME": (400, _l("评分项目的名称不能重复。")),
    "RUBRIC_TOO_MANY": (400, _l("评分项目最多 10 项。")),
    "RUBRIC_GATE_NAME": (400, _l("否决项须有名称且不能重复。")),
    "RUBRIC_LINE": (400, _l("评分项目每行须写成“名称 分值”，如“思想性 30”。")),
    "FORWARD_CHOICE": (400, _l("请选择报送范围：填写“排名前 N 名”（1 至 500 的整数），或勾选要报送的奖项，二者选其一。")),
    "FORWARD_NONE": (409, _l("按所选范围没有可报送的作品（没有名次或奖项已撤销的作品不能报送）。请调整报送范围后重试。")),
    "FORWARD_REASON_MISSING": (409, _l("%(places)s的推荐理由还没有填写，报送材料包未能导出。请在“报送局系统”页写好每篇的推荐理由（可从评委评语中选用）后再下载。")),
    "FORWARD_TEXT": (400, _l("推荐理由和单位意见都须填写，各不超过 %(limit)s 字。")),
    "FORWARD_ORGANISER": (409, _l("没有指定主办单位：报送材料包的报送单位和获奖名单的落款都取自主办单位。请在“单位”页面编辑大队本级的单位，勾选“主办单位（大队本级）”并保存，然后重新导出报送材料包。")),
    "RANK_PENDING": (409, _l("还有 %(n)s 份评分未提交，不能冻结排名。请先催促评委完成，或取消相应的评审分配。")),
    "RANK_TIERS": (400, _l("奖项每行写“名称 比例”或“名称 篇数”，如“一等奖 10%”或“一等奖 3”；名称不能重复，比例合计不能超过 100%。")),
    "RANK_CAP": (400, _l("每单位获奖上限须为正整数，留空表示不限。")),
    "REVIEW_ROUND_PHASE": (409, _l("活动当前处于“%(phase)s”阶段：只有在“评审中”、排名冻结之前，才能增派评委或安排复评。")),
    "EXTRA_JUDGE_NONE": (409, _l("作品 %(essay)s 没有可以增派的评委：启用的评委都已分配过这篇作品，或须回避。请先新建或启用评委账号。")),
    "EXTRA_JUDGE_TAKEN": (409, _l("该评委已分配过作品 %(essay)s，请另选一位评委。")),
    "EXTRA_JUDGE_SECOND_ROUND": (409, _l("作品 %(essay)s 已进入复评，只按复评评分排名。如需增加评委，请在“复评”一栏增选复评评委后再次安排复评。")),
    "SECOND_ROUND_K": (400, _l("复评篇数须为正整数，且不超过已有排名的作品篇数（%(n)s 篇）。")),
    "SECOND_ROUND_NO_JUDGE": (400, _l("请至少选择一位复评评委。")),
    "SECOND_ROUND_UNCOVERED": (409, _l("作品 %(codes)s 没有可以复评的评委：所选评委都在初评中评过这篇作品，或须回避。请增选其他评委。未安排任何复评。")),
    "PUBLISH_DAYS": (400, _l("公示天数须为 1 至 60 的整数。")),
    "OBJECTION_CLOSED": (409, _l("不在公示期内，不能再提出异议。如有问题请直接联系政工科。")),
    "ORGANISATION_PHASE": (409, _l("活动当前处于“%(phase)s”阶段：优秀组织奖在排名冻结之后、活动结束之前评定。")),
    "DOCS_PHASE": (409, _l("活动当前处于“%(phase)s”阶段：荣誉证书、优秀征文汇编和表彰通报在公示期间（为草稿）和活动结束后才能生成。")),
    "DOCS_ORGANISER": (409, _l("没有指定主办单位：荣誉证书、优秀征文汇编和表彰通报的落款取自主办单位。请在“单位”页面编辑大队本级的单位，勾选“主办单位（大队本级）”并保存，然后重新生成。")),
    "DOCS_NONE": (409, _l("没有可以写入这份文件的获奖作品或单位（奖项已撤销的不计）。")),
    "BOOKLET_TIERS": (400, _l("请至少选择一个奖项：汇编只收入所选奖项的获奖作品（可选：%(tiers)s）。")),
    "CERT_PAPER": (400, _l("纸张尺寸或页边距不合适：宽、高须为 80 至 600 毫米，页边距为 0 至 150 毫米，扣除页边距后至少留出 60×40 毫米的版心。")),
}


class Refusal(errors.Refusal):
    codes = CODES
