"""An audit entry as a Chinese sentence for the audit page: who did what to which object,
and what changed (before → after), in words. Pure functions of the entry's fields and of
the words packages registered; the raw record stays one click away on the page.

The words: essays' own below; a package built on essays adds its object and field names
(and named values, such as phases) with `register_words` from its init_app, as it adds its
action names (essays.platform.audit.register_action_names). A word nobody named shows as it
is stored, so nothing is hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

MAX_VALUE = 60  # characters of one value shown in the sentence

OBJECT_NAMES = {
    "user_account": _l("账号"), "unit": _l("单位"), "competition": _l("征文活动"), "submission": _l("论文"),
    "announcement": _l("通知"), "batch_import": _l("批量导入包"), "job": _l("后台任务"), "roster": _l("名单"),
    "reference_text": _l("比对文献"), "reference_upload": _l("比对文献包"), "base_quotation": _l("常用引语"),
    "extension": _l("延期"),
}
FIELD_NAMES = {
    "title": _l("题目"), "phase": _l("阶段"), "deadline": _l("截止时间"), "char_limit": _l("字数上限"),
    "limit_is_hard": _l("硬上限"), "min_per_unit": _l("每单位至少篇数"), "max_per_unit": _l("每单位至多篇数"),
    "themes": _l("主题"), "authors": _l("作者"), "contact_phone": _l("联系电话"), "theme_id": _l("主题编号"),
    "version": _l("版本"), "words": _l("字数"), "filename": _l("文件名"), "late": _l("逾期"), "reason": _l("理由"),
    "decision": _l("决定"), "unit_reason": _l("告知单位的说明"), "name": _l("名称"), "username": _l("账号"),
    "role": _l("角色"), "active": _l("启用"), "until": _l("延期至"), "kind": _l("任务"), "status": _l("状态"),
    "choice": _l("选择"), "accounts": _l("账号数"), "count_title": _l("计入标题"),
    "size": _l("大小（字节）"), "by_admin": _l("政工科代为导入"), "flag": _l("待复核"), "sha256": _l("SHA-256"),
    "title_question": _l("题目待确认"), "similarity": _l("查重"), "format_rules": _l("格式要求"),
    "notice_text": _l("活动通知"), "short_name": _l("简称"), "aliases": _l("别名"), "contact_name": _l("联系人"),
    "display_name": _l("姓名"), "audience": _l("发给"), "files": _l("文件数"), "imported": _l("已导入"),
}
VALUE_NAMES: dict[str, dict[str, object]] = {
    "role": {"admin": _l("管理员"), "unit": _l("单位"), "judge": _l("评委")},
    "decision": {"dismissed": _l("排除（误报）"), "original": _l("原创（被他文抄袭）"), "confirmed": _l("确认抄袭"),
                 "disqualified": _l("取消资格")},
    "choice": {"typed": _l("填写的题目"), "detected": _l("文中的标题"), "own": _l("另填的题目")},
}
_OBJECTS: dict[str, object] = {}
_FIELDS: dict[str, object] = {}
_VALUES: dict[str, dict[str, object]] = {}


def register_words(objects: dict | None = None, fields: dict | None = None, values: dict | None = None) -> None:
    """Adds a package's names of objects (table names), fields and named values."""
    _OBJECTS.update(objects or {})
    _FIELDS.update(fields or {})
    for field, names in (values or {}).items():
        _VALUES.setdefault(field, {}).update(names)


def object_name(object_type: str) -> str:
    name = OBJECT_NAMES.get(object_type, _OBJECTS.get(object_type))
    return str(name) if name is not None else object_type


def field_name(field: str) -> str:
    name = FIELD_NAMES.get(field, _FIELDS.get(field))
    return str(name) if name is not None else field


def value_text(field: str, value) -> str:
    """A value as the sentence shows it: named values by name, 是/否, lists joined with 、."""
    named = {**VALUE_NAMES.get(field, {}), **_VALUES.get(field, {})}
    if isinstance(value, str) and value in named:
        return str(named[value])
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "" or value == []:
        return "（空）"
    if isinstance(value, list):
        text = "、".join(value_text(field, v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: the entry says only what it is now
    after: str


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """What changed: the fields whose values differ, or, when only `after` is given, its fields."""
    before, after = before or {}, after or {}
    found = []
    for field in list(after) + [f for f in before if f not in after]:
        old, new = before.get(field, None), after.get(field, None)
        if field in before and old == new:
            continue
        found.append(Change(field_name(field), value_text(field, old) if field in before else None,
                            value_text(field, new)))
    return found


def sentence(actor: str, action: str, object_type: str, object_id: str) -> str:
    """The head of the sentence: 王科长 修改活动设置：征文活动 #1."""
    target = f"{object_name(object_type)} #{object_id}" if object_type else ""
    return f"{actor} {action}" + (f"：{target}" if target else "")
