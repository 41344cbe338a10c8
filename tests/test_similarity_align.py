"""The counting rule of essays.similarity.align (chain first, then count): light random edits
inside a copied passage lose only the edited characters; an isolated short run counts
nothing; base text never counts; the upload check and the whole run give the same figures."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from essays.similarity.align import COUNT_GAP, Run, coverage, runs, same, seeds
from essays.similarity.base import BaseText, build_base
from essays.similarity.compare import ALL_RUNS_FROM, match, prepare
from essays.similarity.corpus import Document
from essays.similarity.fingerprint import MIN_RUN, K
from essays.similarity.models import SimilarityReport
from essays.similarity.normalize import normalize
from essays.similarity.runs import run_competition
from essays.similarity.service import refresh_stale
from tests.test_similarity_engine import PARAS, SLOGANS, essay, norm_len, plain, ratio_of, run
from tests.test_similarity_service import NOW, paras

COMMON = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"


def substituted(text: str, share: float = 0.03, seed: int = 1) -> tuple[str, int]:
    """`share` of the Chinese characters replaced, at random positions, by other characters."""
    rng = random.Random(seed)
    chars = list(text)
    chinese = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    chosen = rng.sample(chinese, round(share * len(chinese)))
    for i in chosen:
        chars[i] = rng.choice([c for c in COMMON if c != chars[i]])
    return "".join(chars), len(chosen)


def old_ratio(result, a: str, b: str) -> float:
    """The design before this rule: the characters of the runs of MIN_RUN or more."""
    pair = next(p for p in result.pairs if {p.a, p.b} == {a, b})
    doc = result.prepared[a]
    found = [r for passage in pair.passages for r in passage.runs]
    return float((coverage(found, doc.length, "a" if pair.a == a else "b") & ~doc.base).sum()) / doc.length


def test_a_copy_with_three_percent_substituted_reports_about_its_true_ratio():
    source = essay(0, 8)
    part = source[: len(source) * 2 // 3]
    edited, count = substituted(part)
    copy = edited + "\n" + essay(40, 3)
    result = plain(Document("src", source, "u1"), Document("copy", copy, "u2"))
    true_copy = (norm_len(part) - count) / norm_len(copy)
    true_source = (norm_len(part) - count) / norm_len(source)
    ratio_copy, ratio_source = ratio_of(result, "copy", "src")
    assert ratio_copy == pytest.approx(true_copy, abs=0.01)
    assert ratio_source == pytest.approx(true_source, abs=0.01)
    assert ratio_copy <= true_copy + 0.002  # an edited character is never counted
    assert old_ratio(result, "copy", "src") < true_copy - 0.02  # what the runs alone gave
    assert result.essays["copy"].total_ratio == pytest.approx(ratio_copy)


def test_edits_between_short_stretches_are_bridged():
    # Every ninth character changed: no run of MIN_RUN between the two long ones.
    a = PARAS[3][:60] + PARAS[4][:40] + PARAS[5][:60]
    middle = "".join("变" if i % 9 == 4 else c for i, c in enumerate(PARAS[4][:40]))
    b = PARAS[3][:60] + middle + PARAS[5][:60]
    na, nb = normalize(a).text, normalize(b).text
    found = runs(na, nb, seeds(prepare("a", a, BaseText()).print, prepare("b", b, BaseText()).print), min_run=K)
    same_a, same_b = same(na, nb, found)
    changed = sum(1 for x, y in zip(na, nb, strict=True) if x != y)
    assert int(same_a.sum()) == int(same_b.sum()) == len(na) - changed
    assert not same_a[[i for i, (x, y) in enumerate(zip(na, nb, strict=True)) if x != y]].any()


def test_an_isolated_short_run_counts_nothing():
    shared = "今天天气很好我们去公园"  # 11 characters
    a = essay(10, 2) + shared + essay(30, 2)
    b = essay(50, 2) + shared + essay(70, 2)
    assert match(prepare("a", a, BaseText()), prepare("b", b, BaseText())) is None
    # nor beside a real passage elsewhere in the two texts
    long = PARAS[90][:40]
    a2, b2 = a + long, long + b
    m = match(prepare("a", a2, BaseText()), prepare("b", b2, BaseText()))
    assert m is not None and m.shared_a == norm_len(long) and m.shared_b == norm_len(long)


def test_a_moved_sentence_with_one_edit_counts_all_but_the_edit():
    sentence = "城管队员每天清晨巡查街面及时清理乱堆乱放"  # 20 characters: 9 + an edit + 10
    edited = sentence[:9] + "变" + sentence[10:]
    long = PARAS[90][:80]  # a copy of a few sentences: ALL_RUNS_FROM characters or more
    assert norm_len(long) >= ALL_RUNS_FROM
    a = prepare("a", long + essay(10, 1)[:150] + edited + essay(30, 1)[:150], BaseText())
    b = prepare("b", essay(50, 1)[:150] + sentence + essay(70, 1)[:150] + long, BaseText())
    m = match(a, b)
    assert m is not None and m.shared_a == norm_len(long) + len(sentence) - 1
    assert m.shared_b == m.shared_a


def test_beside_a_stock_phrase_a_moved_sentence_is_not_looked_for():
    sentence = "城管队员每天清晨巡查街面及时清理乱堆乱放"
    edited = sentence[:9] + "变" + sentence[10:]
    phrase = PARAS[90][:20]  # one stock phrase: under ALL_RUNS_FROM
    a = prepare("a", phrase + essay(10, 1)[:150] + edited + essay(30, 1)[:150], BaseText())
    b = prepare("b", essay(50, 1)[:150] + sentence + essay(70, 1)[:150] + phrase, BaseText())
    assert match(a, b).shared_a == norm_len(phrase)


def test_short_runs_alone_in_the_runs_count_nothing():
    a, b = "甲乙丙丁戊己庚辛壬癸子丑", "甲乙丙丁戊己庚辛壬癸子丑"  # 12 characters, under MIN_RUN
    same_a, same_b = same(a, b, [Run(0, 0, 12)])
    assert not same_a.any() and not same_b.any()
    assert same(a + "寅", b + "寅", [Run(0, 0, 13)])[0].all()


def test_base_text_inside_a_passage_never_counts():
    slogan = SLOGANS[2]
    body = PARAS[0][:80] + slogan + PARAS[1][:80]
    edited, _ = substituted(body, seed=4)
    edited = edited.replace(edited[80:80 + len(slogan)], slogan)  # the slogan itself intact
    base = build_base([slogan])
    a = prepare("a", edited + essay(60, 2), base)
    b = prepare("b", essay(20, 2) + body, base)
    m = match(a, b)
    assert m is not None
    assert a.base.sum() >= norm_len(slogan) and b.base.sum() >= norm_len(slogan)
    assert not (m.covered_a & a.base).any() and not (m.covered_b & b.base).any()
    without = match(prepare("a", edited + essay(60, 2), BaseText()), prepare("b", essay(20, 2) + body, BaseText()))
    assert without.shared_a - m.shared_a == norm_len(slogan)
    result = run(Document("a", edited + essay(60, 2), "u1"), Document("b", essay(20, 2) + body, "u2"),
                 bases=(slogan,))
    assert ratio_of(result, "a", "b")[0] == pytest.approx(m.ratio_a(a))


def test_runs_from_unrelated_places_are_not_bridged():
    one, two = PARAS[7][:30], PARAS[8][:30]
    a = one + essay(20, 1)[:200] + two
    b = one + essay(40, 1)[:200] + two
    na, nb = normalize(a).text, normalize(b).text
    found = runs(na, nb, seeds(prepare("a", a, BaseText()).print, prepare("b", b, BaseText()).print), min_run=K)
    same_a, _ = same(na, nb, found)
    assert len(found) == 2 and found[1].a - found[0].a_end > COUNT_GAP
    # the two runs, and a chance equal character beside one of them at most
    assert sum(r.length for r in found) <= int(same_a.sum()) <= sum(r.length for r in found) + 2


def test_a_whole_essay_with_edits_counts_all_but_the_edits():
    source = "\n".join(PARAS[:40])
    edited, count = substituted(source, seed=9)
    a, b = prepare("a", edited, BaseText()), prepare("b", source, BaseText())
    m = match(a, b)
    assert m.shared_a == m.shared_b
    assert a.length - count - 10 <= m.shared_a <= a.length - count
    assert m.covered_b.shape == (b.length,)


def test_the_report_page_states_the_minimum():
    page = (Path(__file__).resolve().parents[1] / "templates" / "admin" / "similarity_report.html").read_text("utf-8")
    assert f"不足{MIN_RUN}字的零星相同字句不计" in page


def test_the_upload_check_and_the_whole_run_give_the_same_figures(session, make):
    competition = make.competition()
    source = make.submission(competition, paragraphs=paras(0, 8))
    edited = [substituted(p, seed=n)[0] for n, p in enumerate(paras(0, 5))]
    copy = make.submission(competition, paragraphs=edited + paras(40, 3))
    make.submission(competition, paragraphs=paras(20))
    refresh_stale(session, NOW)
    checked = {s.current.id: session.get(SimilarityReport, s.current.id) for s in (source, copy)}
    before = {vid: (r.total_ratio, [(x["id"], x["ratio"], x["ratio_other"], x["chars"]) for x in r.sources])
              for vid, r in checked.items()}
    assert before[copy.current.id][0] > 0.5
    run_competition(session, competition, NOW)
    for vid in before:
        session.refresh(checked[vid])
    after = {vid: (r.total_ratio, [(x["id"], x["ratio"], x["ratio_other"], x["chars"]) for x in r.sources])
             for vid, r in checked.items()}
    assert after == before
