"""The password policy (pure: the password and the names it must not lean on, in; a reason
in Chinese, or None, out).

A chosen password:
- has at least MIN_LENGTH characters, letters and digits, and is not the username;
- is not a common Chinese choice (the list shipped in data/weak_passwords_zh.txt, which
  zxcvbn's English lists miss: woaini1314, qq123456, a123456...);
- is not a pinyin name with digits or symbols around it (zhangsan123, 2027liuyifei): a
  common surname and one or two syllables, the shape zxcvbn scores as random letters;
- scores at least MIN_SCORE with zxcvbn, given as words of the user's own the username,
  the person's and the unit's names with their pinyin (full and initials), and the shipped
  list: repeats, sequences, keyboard runs, dates and common words are what it catches.
Every refusal says what to choose instead (ADVICE).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MIN_SCORE = 3
ZXCVBN_MAX = 72  # zxcvbn refuses longer input; what follows the 72nd character only adds strength

ADVICE = _l("建议用三四个互不相关的词（拼音或英文均可）加数字或符号，如 lanhua-qiaoban-27；"
            "不要用姓名、单位名称、生日、电话号码、重复或连续的字符和键盘上相邻的键。")

_SURNAMES = ("wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie "
             "song tang han feng deng cao peng zeng xiao tian dong yuan pan cai jiang yu du ye cheng wei su lv lu "
             "ding ren shen yao cui zhong tan fan jin shi liao jia xia fu fang bai zou meng xiong qin qiu hou yin "
             "xue yan duan lei long tao mao hao gu gong shao wan qian dai mo kong xiang chang kang qi ou ouyang "
             "shangguan situ zhuge sima niu").split()
_SYLLABLES = (
    "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen "
    "ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci "
    "cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du "
    "duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong "
    "gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang "
    "hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken "
    "keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie "
    "lin ling liu long lou lu lv luan lve lue lun luo ma mai man mang mao me mei men meng mi mian miao mie min "
    "ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nv "
    "nuan nve nue nun nuo o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian "
    "qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run "
    "ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi shou shu shua shuai "
    "shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie "
    "ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing "
    "xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao "
    "ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang "
    "zhui zhun zhuo zi zong zou zu zuan zui zun zuo").split()


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted(set(words), key=len, reverse=True))


# One run of letters, a pinyin name: a surname, then one or two syllables; only digits and
# symbols around it.
_PINYIN_NAME = re.compile(rf"[^a-z]*(?:{_alternatives(_SURNAMES)})(?:{_alternatives(_SYLLABLES)}){{1,2}}[^a-z]*")

_PATTERN_REASONS = {
    "repeat": _l("含有重复的字符（如 aaaa、abcabc）"),
    "sequence": _l("含有连续的字母或数字（如 abcd、1234）"),
    "spatial": _l("含有键盘上相邻的键（如 qwer、1qaz）"),
    "date": _l("含有日期或年份（如生日）"),
}


@functools.cache
def weak_list() -> frozenset[str]:
    """The shipped list of common Chinese choices (lower case)."""
    text = (Path(__file__).parent / "data" / "weak_passwords_zh.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def name_words(names: Iterable[str]) -> list[str]:
    """Each name as typed, and for a Chinese one its pinyin, whole and as initials
    (城管执法大队: chengguanzhifadadui, cgzfdd)."""
    from pypinyin import lazy_pinyin  # imported on first use: its tables take a quarter second

    words = []
    for name in names:
        name = (name or "").strip()
        if not name:
            continue
        words.append(name.lower())
        if re.search(r"[\u4e00-\u9fff]", name):
            syllables = [s for s in lazy_pinyin(name, errors="ignore") if s.isascii() and s.isalpha()]
            if syllables:
                words += ["".join(syllables), "".join(s[0] for s in syllables)]
    return words


def _reason(result: dict) -> object:
    patterns = [m for m in result["sequence"] if m["pattern"] != "bruteforce"]
    if any(m["pattern"] == "dictionary" and m.get("dictionary_name") == "user_inputs" for m in patterns):
        return _l("含有账号、姓名、单位名称或它们的拼音，或常见的中文密码")
    for match in patterns:
        if match["pattern"] in _PATTERN_REASONS:
            return _PATTERN_REASONS[match["pattern"]]
    if patterns:
        return _l("含有常见的单词或密码")
    return _l("太短或太简单，容易被猜中")


def problem(password: str, username: str = "", names: Iterable[str] = (), *, strict: bool = True) -> str | None:
    """Why `password` is not acceptable for the account `username` whose person and unit go
    by `names`, or None. `strict=False` checks the shape only (the demo's shared password,
    public anyway)."""
    if len(password) < MIN_LENGTH:
        return str(_l("至少 %(n)s 个字符", n=MIN_LENGTH))
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return str(_l("须同时包含字母和数字"))
    if username and password.lower() == username.lower():
        return str(_l("不能与账号相同"))
    if not strict:
        return None
    lowered = password.lower()
    if lowered in weak_list():
        return f"{_l('这是常见的密码，很容易被猜中')}。{ADVICE}"
    if _PINYIN_NAME.fullmatch(lowered):
        return f"{_l('不要用姓名拼音加数字（如 zhangsan123）')}。{ADVICE}"
    from zxcvbn import zxcvbn  # imported on first use, like pypinyin

    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[*name_words([username, *names]), *sorted(weak_list())])
    if result["score"] < MIN_SCORE:
        return f"{_reason(result)}。{ADVICE}"
    return None
