"""WTForms for the admin and unit pages. Labels and messages are Chinese (Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

REQUIRED = _l("此项必填")
PHONE_RE = r"^(\+?[0-9][0-9 \-]{5,18}[0-9])?$"


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
                           description=_l("填写日期如 2027-05-20，表示当天 24:00 截止；"
                                          "也可写具体时刻如 2027-05-20T17:30（北京时间）。"))
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
                        description=_l("如 2027-05-27，表示当天 24:00"))
    reason = StringField(_l("延期原因"), validators=[DataRequired(REQUIRED), Length(max=500)])


class UnitForm(FlaskForm):
    name = StringField(_l("单位名称"), validators=[DataRequired(REQUIRED), Length(max=100)])
    short_name = StringField(_l("简称"), validators=[Optional(), Length(max=50)])
    aliases = TextAreaField(_l("别名（用顿号或换行分隔）"), validators=[Optional(), Length(max=2000)])
    parent_id = SelectField(_l("上级单位"), coerce=int)
    contact_name = StringField(_l("联系人"), validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("联系电话"), validators=[
        Optional(), Length(max=30), Regexp(PHONE_RE, message=_l("电话号码格式不正确"))])
    is_organiser = BooleanField(_l("主办单位（大队本级）"))


class UserForm(FlaskForm):
    username = StringField(_l("账号"), validators=[
        DataRequired(REQUIRED), Length(min=2, max=50),
        Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("账号只能由字母、数字、下划线、点或短横线组成"))])
    display_name = StringField(_l("姓名"), validators=[DataRequired(REQUIRED), Length(max=50)])
    role = SelectField(_l("角色"), choices=[("unit", _l("单位")), ("judge", _l("评委")),
                                            ("admin", _l("管理员（政工科）"))])
    unit_id = SelectField(_l("所属单位"), coerce=int)


class RosterForm(FlaskForm):
    file = FileField(_l("名单文件（.xlsx 或 .csv）"))


class AnnouncementForm(FlaskForm):
    title = StringField(_l("标题"), validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField(_l("内容"), validators=[DataRequired(REQUIRED), Length(max=20_000)])
    audience = SelectField(_l("发给"), choices=[
        ("all_units", _l("全部单位")), ("some_units", _l("部分单位")),
        ("judges", _l("评委")), ("everyone", _l("所有人"))])
    unit_ids = SelectMultipleField(_l("单位（选择“部分单位”时）"), coerce=int)


class DetailsForm(FlaskForm):
    theme_id = SelectField(_l("主题"), coerce=int)
    title = StringField(_l("文章题目"), validators=[Optional(), Length(max=200)],
                        description=_l("留空则使用文中检测到的标题，上传后可修改。"))
    authors = StringField(_l("作者（多人用顿号分隔）"), validators=[DataRequired(REQUIRED), Length(max=200)])
    contact_phone = StringField(_l("联系电话"), validators=[
        DataRequired(REQUIRED), Length(max=30), Regexp(PHONE_RE, message=_l("电话号码格式不正确"))])


class SubmissionForm(DetailsForm):
    file = FileField(_l("论文文件（.docx）"))


def split_names(text: str) -> list[str]:
    """Author names separated by 、 , ， ; ； or spaces."""
    import re

    return [n for n in re.split(r"[、,，;；\s]+", text or "") if n]
