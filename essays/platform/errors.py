"""Stable error codes with their Chinese messages.

Each refusal the app can give has a code that never changes (users quote it on the
phone, tests assert it) and a message that says what to do. These are essays' codes; a
package built on essays keeps its own table and raises a subclass of `Refusal` that names
it (review.errors), so that essays holds none of its vocabulary. README.md lists them all;
`tests/test_cli_and_docs.py` checks that the list there and the tables agree.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# code: (HTTP status, message template)
CODES: dict[str, tuple[int, object]] = {
    "LOGIN_FAILED": (401, _l("用户名或密码错误，或账号已停用，请联系政工科")),
    "LOGIN_RATE_LIMITED": (429, _l("登录失败次数过多，这台电脑暂时不能登录，请在 %(until)s 之后再试；换一台电脑可以照常登录。如忘记密码，请联系政工科重置。")),
    "RATE_LIMITED": (429, _l("操作过于频繁，请稍后再试。")),
    "CSRF_FAILED": (400, _l("页面已过期或表单来源无法验证，请刷新页面后重新提交。")),
    "FORM_INVALID": (400, _l("表单填写有误，请按提示修改后重新提交。")),
    "PASSWORD_WRONG": (400, _l("当前密码不正确。")),
    "PASSWORD_WEAK": (400, _l("新密码不符合要求：%(reason)s")),
    "PASSWORD_MISMATCH": (400, _l("两次输入的新密码不一致。")),
    "USERNAME_TAKEN": (409, _l("账号“%(username)s”已存在，请换一个。")),
    "UNIT_NAME_TAKEN": (409, _l("单位“%(name)s”已存在。")),
    "UNIT_REQUIRED": (400, _l("单位账号必须指定所属单位。")),
    "ORGANISER_TAKEN": (409, _l("已有主办单位“%(name)s”，一次只能指定一个主办单位。")),
    "ROSTER_FILE_TYPE": (400, _l("名单文件须为 .xlsx 或 .csv（UTF-8 或 GBK 编码）。")),
    "ROSTER_INVALID": (400, _l("名单中有 %(count)s 行有误，未导入任何内容。请改正后重新上传。")),
    "ROSTER_EMPTY": (400, _l("名单文件中没有数据行。")),
    "ROSTER_TOO_LARGE": (400, _l("名单文件内部结构异常（解压后过大或条目过多），出于安全考虑拒收。请在 Excel 或 WPS 中把名单另存为新的 .xlsx 文件后再上传。")),
    "PHASE_REFUSED": (409, _l("不能进入“%(target)s”阶段：%(reason)s")),
    "PHASE_STALE": (409, _l("活动阶段已被他人改变（现为“%(current)s”），请刷新页面后再操作。")),
    "COMPETITION_LOCKED": (409, _l("活动已进入“%(phase)s”阶段，不能再修改这些设置。")),
    "THEME_IN_USE": (409, _l("主题“%(title)s”已有 %(count)s 篇来稿选择，不能删除。可以修改其他主题，或请这些单位先改选主题。")),
    "THEMES_COUNT": (400, _l("主题须为 1 至 3 个，每行一个。")),
    "TITLE_REQUIRED": (400, _l("请填写文章题目（文中没有识别出标题）。")),
    "DEADLINE_INVALID": (400, _l("截止时间格式不正确，请填写如 2027年5月20日、2027-05-20 或 2027年5月20日 18:00 的日期（不写时刻即当天 24:00）。")),
    "EXTENSION_INVALID": (400, _l("延期截止时间必须晚于活动截止时间。")),
    "NOT_OPEN": (409, _l("本活动当前不在收稿阶段，不能提交或替换文章。")),
    "DEADLINE_PASSED": (409, _l("已过截止时间（%(deadline)s），不能再提交或替换。如有特殊情况请联系政工科申请延期。")),
    "QUOTA_FULL": (409, _l("本单位在本活动中最多提交 %(max)s 篇，已达上限。如需更换，请替换已提交的文章。")),
    "UPLOAD_MISSING": (400, _l("请选择要上传的 .docx 文件。")),
    "UPLOAD_EMPTY": (400, _l("上传的文件是空的（0 字节），请检查后重新上传。")),
    "UPLOAD_TOO_LARGE": (413, _l("文件太大，不能超过 %(limit)s。请删除文中的大图片后再上传。")),
    "UPLOAD_NOT_DOCX": (400, _l("只接受 Word 的 .docx 文件。请在 Word 或 WPS 中“另存为” .docx 后再上传。")),
    "UPLOAD_OLD_DOC": (400, _l("这是旧版 .doc 文件（或加了密码的文件）。请在 Word 或 WPS 中“另存为” .docx，并去掉打开密码后再上传。")),
    "UPLOAD_PDF": (400, _l("这是 PDF 文件，不是 Word 文档。请上传 .docx 原文件。")),
    "UPLOAD_ENCRYPTED": (400, _l("文件设置了打开密码（已加密），系统无法读取。请在 Word 或 WPS 中取消密码（文件 → 信息 → 保护文档 → 用密码进行加密，清空密码）后另存再上传。")),
    "UPLOAD_MACRO": (400, _l("这是含宏的文档或模板（.docm/.dotx/.dotm），出于安全考虑不予接收。请在 Word 或 WPS 中“另存为”普通的 Word 文档（.docx）后再上传。")),
    "UPLOAD_ZIP_BOMB": (400, _l("文件内部结构异常（解压后过大或条目过多），出于安全考虑拒收。请在 Word 或 WPS 中打开后重新保存为 .docx 再上传。")),
    "UPLOAD_XML_DOCTYPE": (400, _l("文件中含有不允许的 XML 声明（DOCTYPE），出于安全考虑拒收。请在 Word 或 WPS 中打开后重新保存为 .docx 再上传。")),
    "UPLOAD_BROKEN": (400, _l("文件已损坏或不是有效的 .docx，无法读取。请在 Word 或 WPS 中打开确认后重新保存再上传。")),
    "UPLOAD_NO_TEXT": (400, _l("文件中没有读到正文文字。请确认正文不是图片或扫描件。")),
    "UPLOAD_ONLY_PLACEHOLDER": (400, _l("文件中只有模板的提示文字（如“单击或点击此处输入文字”），没有填写正文。请在 Word 或 WPS 中点击提示文字，输入正文后保存，再上传。")),
    "UPLOAD_TEXT_UNCOUNTED": (400, _l("文件的文字都在文本框、脚注或尾注中，而文件设置为字数统计不包括这些内容，因此正文为空。请把文字移到正文中（不放在文本框里），或在 Word 的“审阅 → 字数统计”中勾选“包括文本框、脚注和尾注”，保存后再上传。")),
    "UPLOAD_NESTING": (400, _l("文件中嵌入的文档层层相套，超过了 3 层，出于安全考虑拒收。请在 Word 或 WPS 中打开，把全文复制到一个新文档，另存为 .docx 后再上传。")),
    "BATCH_NOT_ZIP": (400, _l("这不是有效的 .zip 压缩包。请把各单位的 .docx 文件压缩成一个 .zip 文件后上传。")),
    "BATCH_TOO_LARGE": (400, _l("压缩包中的文件过多或解压后过大，请分批上传。")),
    "PACKAGE_NOT_ZIP": (400, _l("这不是有效的报送材料包：文件不是 .zip 压缩包，或已损坏。请向报送单位重新索取由征文评审系统导出的 .zip 文件后再导入。")),
    "PACKAGE_TOO_LARGE": (400, _l("报送材料包过大、文件过多或解压后过大（可能是异常的压缩文件），出于安全考虑拒收。请向报送单位核实，重新索取由征文评审系统导出的 .zip 文件。")),
    "PACKAGE_MANIFEST": (400, _l("报送材料包的清单（manifest.json）有误：%(detail)s。请向报送单位重新索取由征文评审系统导出的 .zip 文件。")),
    "PACKAGE_UNSAFE_NAME": (400, _l("报送材料包中的文件名“%(name)s”不安全或重复（绝对路径，含“..”、反斜杠或盘符，或与其他文件同名），出于安全考虑拒收。请向报送单位重新索取由征文评审系统导出的 .zip 文件。")),
    "PACKAGE_FILE": (400, _l("报送材料包中的文件“%(name)s”%(problem)s，材料包可能在传输中损坏或被改动过。请向报送单位重新索取 .zip 文件后再导入。")),
    "PACKAGE_UNIT": (409, _l("单位名单中找不到唯一与“%(organiser)s”对应的单位（没有或有多个单位的名称、简称或别名与之相同）。请在单位名单中为代表报送单位的单位添加这个别名，或导入时指定单位。")),
    "PACKAGE_ENTRY": (409, _l("报送材料第 %(rank)s 名《%(title)s》无法导入（原因代码 %(inner)s）：%(reason)s整个材料包均未导入，请处理上述问题后重新导入。")),
    "OVER_LIMIT": (400, _l("正文 %(count)s 字，超过了 %(limit)s 字的上限，未能提交。请至少删减 %(cut)s 字后重新上传。")),
    "SIMILARITY_REASON_REQUIRED": (400, _l("请填写处理理由：排除（误报）、确认抄袭和取消资格都须写明理由。")),
    "SIMILARITY_DECISION_STALE": (409, _l("这篇论文已有新版本（第 %(number)s 版），请先查看新版本的查重报告再作处理决定。")),
    "SIMILARITY_THRESHOLDS_INVALID": (400, _l("查重阈值须为大于 0、不超过 100 的百分数，且“列出”不高于“疑似”、“疑似”不高于“严重”。")),
    "REFERENCE_MISSING": (400, _l("请选择要上传的比对文献（.docx 或 .txt 文件，或装有它们的 .zip 压缩包）。")),
    "REFERENCE_FILE_TYPE": (400, _l("比对文献只接受 .docx 和 .txt 文件，或装有它们的 .zip 压缩包。")),
    "REFERENCE_NOT_TEXT": (400, _l("这个 .txt 文件不是纯文本（可能是其他格式的文件改了扩展名），无法读取。请另存为 UTF-8 或 GBK 编码的 .txt，或另存为 .docx 后再上传。")),
    "REFERENCE_NOT_ZIP": (400, _l("这不是有效的 .zip 压缩包。请把 .docx 或 .txt 文件压缩成一个 .zip 文件后上传。")),
    "QUOTATION_REQUIRED": (400, _l("请填写常用引语，每行一条。")),
    "QUOTATION_LENGTH": (400, _l("常用引语“%(text)s”长度不合适：每条须为 %(min)s 至 %(max)s 个字（过短的词语会把正常行文当作引语）。未保存任何引语。")),
    "FORBIDDEN": (403, _l("您没有权限访问此页面。")),
    "NOT_FOUND": (404, _l("页面或对象不存在。")),
    "REQUEST_TOO_LARGE": (413, _l("提交的内容太大。")),
    "SERVER_ERROR": (500, _l("服务器内部错误，您的操作未被保存。请稍后重试；如多次出现，请联系政工科。")),
    "DB_UNAVAILABLE": (503, _l("数据库暂时无法连接，您的操作未被保存。请稍后重试。")),
}


class Refusal(Exception):
    """A refused action: a stable code, its HTTP status and a Chinese message.

    `codes` is the table the code is looked up in first; essays' own codes are always
    known, so a package's subclass can refuse with FORM_INVALID or NOT_FOUND too."""

    codes: dict[str, tuple[int, object]] = CODES

    def __init__(self, code: str, **params):
        status, template = self.codes[code] if code in self.codes else CODES[code]
        self.code = code
        self.status = status
        self.params = params
        super().__init__(code)
        self._template = template

    @property
    def message(self) -> str:
        return str(self._template) % self.params if self.params else str(self._template)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"
