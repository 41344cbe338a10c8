"""What the forms of every feature share: the required-field message and the phone pattern."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REQUIRED = _l("此项必填")
PHONE_RE = r"^(\+?[0-9][0-9 \-]{5,18}[0-9])?$"
