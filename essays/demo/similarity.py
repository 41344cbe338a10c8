"""The demo's copy-detection material: common quotations, one 范文 in the reference library,
and the traces a unit leaves when it copies from a 范文 website.

执法监察中队's essay takes two paragraphs from a 范文 site's article (kept in the library as a
reference, with the site's 导语 boilerplate): one with the site's pinyin glosses still in it,
and the site's source line. Its report then shows the reference as a source and the traces.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.orm import Session

from essays.demo.text import Essay, EssayPlan, EssayWriter
from essays.intake.batch_files import BatchFile
from essays.models import User
from essays.similarity import quotations, references

QUOTATIONS = [
    "坚持以人民为中心的发展思想",
    "人民城市人民建，人民城市为人民",
    "以习近平新时代中国特色社会主义思想为指导",
    "全面贯彻党的二十大精神",
    "城市管理应该像绣花一样精细",
    "不忘初心、牢记使命",
]
FANWEN_TITLE = "关于城管执法规范化建设的思考"
FANWEN_SITE = "城管范文网"
COPIER = "执法监察中队"
# A few readings, as the site glosses them (only characters that occur get a gloss).
GLOSSES = {"发": "fā", "展": "zhǎn", "创": "chuàng", "业": "yè", "规": "guī", "范": "fàn", "执": "zhí"}


def write_fanwen(writer: EssayWriter, quote: str) -> Essay:
    return writer.write(EssayPlan(FANWEN_TITLE, ["规范执法", "队伍建设"], quote, target=900),
                        random.Random("demo:fanwen"))


def _glossed(paragraph: str) -> str:
    """The paragraph as the site shows it: a pinyin reading after some characters."""
    out, glossed = [], 0
    for ch in paragraph:
        out.append(ch)
        if ch in GLOSSES and glossed < 6:
            out.append(f"({GLOSSES[ch]})")
            glossed += 1
    return "".join(out)


def fanwen_page(fanwen: Essay) -> str:
    """The article as saved from the site, boilerplate and all."""
    return "\n".join([
        FANWEN_TITLE, "时间:2026-03-18 09:12:45",
        f"导语:{FANWEN_TITLE}一文来源于网友上传,不代表本站观点,若需要原创文章可咨询客服老师,欢迎参考。",
        *(_glossed(p) for p in fanwen.paragraphs),
        f"本文来源：{FANWEN_SITE} www.cgfanwen.com",
    ])


def copy_into(essay: Essay, fanwen: Essay) -> Essay:
    """`essay` with two of the 范文's body paragraphs pasted in after its opening."""
    body = [p for p in fanwen.paragraphs[1:] if p[:2] not in ("一、", "二、", "三、")][:2]
    pasted = [_glossed(body[0]), body[1] + f"（本文来源：{FANWEN_SITE}）"]
    return Essay(essay.title, [essay.paragraphs[0], *pasted, *essay.paragraphs[1:]])


def load(session: Session, admin: User, fanwen: Essay, now: datetime) -> None:
    quotations.add(session, admin, "\n".join(QUOTATIONS))
    page = fanwen_page(fanwen).encode("gb18030")  # saved from the browser on a Chinese Windows PC
    references.load_files(session, admin, "范文网站", [BatchFile(f"{FANWEN_TITLE}.txt", page)], now)
