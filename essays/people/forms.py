"""The admin's forms for units, accounts, the roster and announcements."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from essays.platform.forms import PHONE_RE, REQUIRED


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
