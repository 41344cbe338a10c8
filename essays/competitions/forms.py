"""The admin's competition forms (settings, extensions). Labels and messages are Chinese."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from essays.platform.forms import REQUIRED


class CompetitionForm(FlaskForm):
    title = StringField(_l("活动名称"), validators=[DataRequired(REQUIRED), Length(max=200)])
    notice_text = TextAreaField(_l("活动通知"), validators=[Length(max=100_000)])
    themes = TextAreaField(_l("主题（每行一个，1 至 3 个）"), validators=[DataRequired(REQUIRED)])
    char_limit = IntegerField(_l("字数上限"), default=3000,
                              validators=[DataRequired(REQUIRED), NumberRange(min=1, max=100_000)])
    limit_is_hard = SelectField(_l("字数要求"), choices=[
        ("hard", _l("硬上限（“以内”“不超过”：超字数的文件拒收）")),
        ("soft", _l("参考值（“左右”“为宜”：接收并标记）")),
    ], default="hard")
    deadline = StringField(_l("截止日期"), validators=[DataRequired(REQUIRED)],
                           description=_l("填写日期如 2027年5月20日 或 2027-05-20，表示当天 24:00 截止；"
                                          "也可写具体时刻如 2027年5月20日 17:30（北京时间）。"))
    count_title = SelectField(_l("计字范围"), choices=[
        ("whole", _l("全文（与 Word“字数统计”一致，含标题）")),
        ("body", _l("正文（不含标题）")),
    ], default="whole")
    format_paper = SelectField(_l("纸张"), choices=[("", _l("不要求"))] + [(p, p) for p in
                                                   ("A4", "A3", "A5", "B5", "16开", "Letter")], default="")
    format_body_font = StringField(_l("正文字体"), validators=[Optional(), Length(max=50)],
                                   description=_l("如 仿宋_GB2312；留空则不检查"))
    format_body_size = StringField(_l("正文字号"), validators=[Optional(), Length(max=20)],
                                   description=_l("如 三号 或 16磅"))
    format_title_font = StringField(_l("标题字体"), validators=[Optional(), Length(max=50)],
                                    description=_l("如 方正小标宋简体"))
    format_title_size = StringField(_l("标题字号"), validators=[Optional(), Length(max=20)],
                                    description=_l("如 二号"))
    min_per_unit = IntegerField(_l("每单位至少篇数"), default=1,
                                validators=[DataRequired(REQUIRED), NumberRange(min=1, max=50)])
    max_per_unit = IntegerField(_l("每单位至多篇数"), default=1,
                                validators=[DataRequired(REQUIRED), NumberRange(min=1, max=50)])


class ExtensionForm(FlaskForm):
    unit_id = SelectField(_l("单位"), coerce=int)
    until = StringField(_l("延期至"), validators=[DataRequired(REQUIRED)],
                        description=_l("如 2027年5月27日，表示当天 24:00"))
    reason = StringField(_l("延期原因"), validators=[DataRequired(REQUIRED), Length(max=500)])
