"""A unit's upload form and the details of a submission."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from essays.platform.forms import PHONE_RE, REQUIRED


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
