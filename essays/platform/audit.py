"""The audit log: append-only and hash-chained.

Every state change calls `record()` in the same transaction as the change, so the entry
exists exactly when the change does. Each entry stores the hash of the previous entry and
its own hash over its content and that previous hash; `verify_chain()` recomputes them, so
an edited, deleted or inserted row breaks the chain from that point on.

Concurrency: two writers must never both take entry N as their predecessor (the chain
would fork). The head of the chain is a single row in `audit_head`; a writer first runs
`UPDATE audit_head SET seq = seq + 1`, which takes a row lock on PostgreSQL and the write
lock on SQLite, and holds it until its transaction ends. A second writer waits at that
UPDATE and then sees the first writer's new head. An UPDATE rather than SELECT ... FOR
UPDATE because SQLite has no FOR UPDATE, and a plain SELECT would let two SQLite
transactions read the same head before either writes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from essays.models import User
from essays.platform.db import utcnow
from essays.platform.models import GENESIS, AuditHead, AuditLog

# Chinese names of the actions, for the audit page; unknown actions show as they are.
# Packages built on essays add theirs with `register_action_names` (from their init_app).
ACTION_NAMES = {
    "login": _l("登录"), "login.failed": _l("登录失败"), "account.locked": _l("账号锁定"),
    "login.throttled": _l("登录限流开始"), "login.unthrottled": _l("登录限流结束"),
    "login.alert": _l("登录失败过多告警"),
    "user.create": _l("创建账号"), "user.password_change": _l("修改密码"),
    "user.password_reset": _l("重置密码"), "user.lock": _l("锁定账号"), "user.unlock": _l("解锁账号"),
    "user.activate": _l("启用账号"), "user.deactivate": _l("停用账号"),
    "unit.create": _l("新增单位"), "unit.update": _l("修改单位"), "roster.import": _l("导入名单"),
    "competition.create": _l("创建征文活动"), "competition.update": _l("修改活动设置"),
    "competition.phase": _l("变更活动阶段"), "extension.grant": _l("批准延期"),
    "submission.create": _l("提交论文"), "submission.replace": _l("替换论文"),
    "submission.details": _l("修改论文信息"), "submission.title": _l("确认论文题目"),
    "version.reread": _l("重新读取论文文件"),
    "announcement.post": _l("发布通知"),
    "announcement.read": _l("阅读通知"), "batch.upload": _l("上传批量导入包"),
    "batch.import": _l("批量导入"), "batch.cancel": _l("取消批量导入"),
    "package.import": _l("导入报送材料包"),
    "job.enqueue": _l("提交后台任务"), "job.start": _l("开始后台任务"), "job.done": _l("后台任务完成"),
    "job.fail": _l("后台任务失败"),
    "similarity.refresh": _l("查重：更新报告"), "similarity.run": _l("全活动查重"),
    "similarity.decide": _l("查重处理决定"), "similarity.settings": _l("修改查重设置"),
    "reference.load": _l("导入比对文献"), "reference.deactivate": _l("停用比对文献"),
    "quotation.add": _l("新增常用引语"), "quotation.remove": _l("删除常用引语"),
}
_REGISTERED: dict[str, object] = {}


def register_action_names(names: dict[str, object]) -> None:
    """Adds a package's action names ({"package.action": _l("中文名称")}); an
    action essays already names, or that another package named differently, is refused."""
    for action, name in names.items():
        known = ACTION_NAMES.get(action, _REGISTERED.get(action))
        if known is not None and str(known) != str(name):
            raise ValueError(f"audit action {action!r} is already named {known!s}")
        _REGISTERED[action] = name


def action_name(action: str) -> str:
    """The Chinese name of `action` for the audit page, or the action itself."""
    name = ACTION_NAMES.get(action, _REGISTERED.get(action))
    return str(name) if name is not None else action


def entry_hash(prev_hash: str, seq: int, created_at: datetime, actor_id: int | None,
               action: str, object_type: str, object_id: str,
               before: dict | None, after: dict | None, ip: str = "") -> str:
    """SHA-256 of the entry's content (every column but the hashes) in a canonical JSON
    form, chained to `prev_hash`."""
    payload = json.dumps(
        [prev_hash, seq, created_at.strftime("%Y-%m-%dT%H:%M:%S.%f"), actor_id, action,
         object_type, object_id, before, after, ip],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(session: Session, action: str, *, actor: User | None = None, obj=None,
           object_type: str = "", object_id: str | int = "",
           before: dict | None = None, after: dict | None = None, ip: str = "") -> AuditLog:
    """Appends one entry to the chain, in the caller's transaction.

    The client's address is taken from the current request when the caller gives none."""
    if not ip and has_request_context():
        ip = request.remote_addr or ""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        session.flush()
        object_id = object_id or obj.id
    # Normalise through JSON so that the hash is computed on what is stored.
    before = json.loads(json.dumps(before, default=str)) if before is not None else None
    after = json.loads(json.dumps(after, default=str)) if after is not None else None
    # Take the chain head under a lock (see the module docstring).
    result = session.execute(update(AuditHead).where(AuditHead.id == 1)
                             .values(seq=AuditHead.seq + 1))
    if result.rowcount == 0:
        # The migration creates the head row; creating it here would race.
        raise RuntimeError("audit_head row missing: run `flask --app app init-db`")
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    digest = entry_hash(head.last_hash, head.seq, now, actor_id, action, object_type,
                        str(object_id), before, after, ip)
    entry = AuditLog(seq=head.seq, created_at=now, actor_id=actor_id, action=action,
                     object_type=object_type, object_id=str(object_id), before=before,
                     after=after, ip=ip, prev_hash=head.last_hash, hash=digest)
    head.last_hash = digest
    session.add(entry)
    session.flush()
    return entry


def last_entry(session: Session, action: str, obj) -> AuditLog | None:
    """The newest entry of `action` about `obj` (as `record(..., obj=obj)` names it), or None."""
    return session.execute(select(AuditLog).where(AuditLog.action == action,
                                                  AuditLog.object_type == obj.__tablename__,
                                                  AuditLog.object_id == str(obj.id))
                           .order_by(AuditLog.seq.desc()).limit(1)).scalar_one_or_none()


def verify_chain(session: Session) -> tuple[bool, int | None]:
    """Recomputes every hash in order. Returns (intact, seq of the first bad entry)."""
    prev = GENESIS
    expected_seq = 1
    for entry in session.execute(select(AuditLog).order_by(AuditLog.seq)).scalars():
        digest = entry_hash(prev, entry.seq, entry.created_at, entry.actor_id, entry.action,
                            entry.object_type, entry.object_id, entry.before, entry.after, entry.ip)
        if entry.seq != expected_seq or entry.prev_hash != prev or entry.hash != digest:
            return False, entry.seq
        prev = entry.hash
        expected_seq += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.seq != expected_seq - 1):
        return False, expected_seq
    return True, None
