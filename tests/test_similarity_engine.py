"""The copy-detection engine on plain text: normalisation, fingerprints, alignment and a
whole run, one test per obfuscation the issue lists."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from essays.similarity.align import runs, seeds
from essays.similarity.corpus import Document, compare_corpus
from essays.similarity.fingerprint import MIN_RUN, fingerprint
from essays.similarity.normalize import normalize

CORPUS = Path(__file__).resolve().parents[1] / "essays" / "data" / "demo_corpus.txt"
PARAS = [line for line in CORPUS.read_text(encoding="utf-8").splitlines()
         if line and not line.startswith(("//", "#", "=="))]
NOTICE = ("为深入学习贯彻党的二十大精神，大队决定在全大队开展“解放思想、改革创新”主题征文活动。"
          "征文要求紧密结合城市管理工作实际，观点鲜明，文风朴实，字数控制在3000字以内。"
          "各中队、科室务必高度重视，精心组织，于5月20日前将征文报送政工科。")
SLOGANS = ["坚持以人民为中心的发展思想", "人民城市人民建，人民城市为人民", "以习近平新时代中国特色社会主义思想为指导"]


def essay(first: int, count: int = 6) -> str:
    return "\n".join(PARAS[first:first + count])


def ratio_of(result, a: str, b: str) -> tuple[float, float]:
    for p in result.pairs:
        if (p.a, p.b) == (a, b):
            return p.ratio_a, p.ratio_b
        if (p.a, p.b) == (b, a):
            return p.ratio_b, p.ratio_a
    return 0.0, 0.0


def run(*docs: Document, references=(), bases=(NOTICE, *SLOGANS), **kw):
    return compare_corpus(list(docs), list(references), list(bases), workers=1, **kw)


def plain(*docs: Document, **kw):
    """A run without base text: the demo paragraphs quote slogans, which would otherwise
    (rightly) be left out of the ratios these tests compute by hand."""
    return run(*docs, bases=(), **kw)


def norm_len(text: str) -> int:
    return len(normalize(text).text)


# --- normalisation ----------------------------------------------------------------------

def test_normalise_drops_punctuation_spaces_and_case():
    assert normalize("城市 管理，\n要“精细化”！ＡＢＣ abc １２３").text == "城市管理要精细化abcabc123"


def test_normalise_converts_traditional_and_strips_pinyin_glosses():
    assert normalize("開展科學發(fā)展創（chuàng）業(yè)富民").text == "开展科学发展创业富民"


@pytest.mark.parametrize("glossed", ["发(fa\u0304)展", "发 (fā)展", "发（fa1）展", "发[fā]展", "发【fā】展"])
def test_normalise_strips_every_form_of_gloss(glossed):
    assert normalize(glossed).text == "发展"


def test_normalise_strips_multi_syllable_glosses_but_keeps_acronyms():
    assert normalize("城市(chéng shì)管理").text == "城市管理"
    assert normalize("加入(WTO)后").text == "加入wto后"


def test_normalise_keeps_ordinary_parentheses_content():
    assert normalize("第（一）条(2023年)").text == "第一条2023年"


def test_offsets_map_back_to_the_original():
    original = "導語：發(fā)展，城市 管理"
    n = normalize(original)
    start = n.text.index("城市")
    assert original[slice(*n.span(start, start + 4))] == "城市 管理"
    assert original[slice(*n.span(0, 2))] == "導語"


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=200))
def test_offsets_are_in_range_for_any_text(text):
    n = normalize(text)
    assert len(n.offsets) == len(n.text)
    assert all(0 <= int(o) < len(text) for o in n.offsets)
    assert list(n.offsets) == sorted(n.offsets)


# --- fingerprints and alignment ---------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(MIN_RUN, 60))
def test_every_shared_run_of_min_run_characters_is_found(seed, length):
    rng = random.Random(seed)
    alphabet = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
                "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都"
                "两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重"
                "新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
                "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知"
                "较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理世车")
    shared = "".join(rng.choice(alphabet) for _ in range(length))
    a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) + shared + "甲乙丙"
    b = "丁戊己" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) + shared
    found = runs(a, b, seeds(fingerprint(a), fingerprint(b)))
    assert any(r.length >= length for r in found)


def test_runs_shorter_than_min_run_are_dropped():
    a = "今天天气很好我们去公园散步吧" + PARAS[0]
    b = PARAS[1] + "今天天气很好我们去公园"  # 11 shared characters
    assert runs(normalize(a).text, normalize(b).text,
                seeds(fingerprint(normalize(a).text), fingerprint(normalize(b).text))) == []


# --- whole runs: each obfuscation ----------------------------------------------------------

def copied_half(source: str, own: str) -> tuple[str, str]:
    half = source[: len(source) // 2]
    return half, half + "\n" + own


def test_plain_copy_is_found_with_its_ratio():
    source = essay(0)
    part, copy = copied_half(source, essay(40, 4))
    result = plain(Document("src", source, "u1"), Document("copy", copy, "u2"))
    ratio_copy, ratio_src = ratio_of(result, "copy", "src")
    assert ratio_copy == pytest.approx(norm_len(part) / norm_len(copy), abs=0.01)
    assert ratio_src == pytest.approx(norm_len(part) / norm_len(source), abs=0.01)
    assert result.essays["copy"].max_source == "src"


def test_punctuation_and_spacing_changes_change_nothing():
    source = essay(0)
    part, copy = copied_half(source, essay(40, 4))
    mangled = copy.replace("，", " ").replace("。", "；\n").replace("的", "的　")
    result = plain(Document("src", source, "u1"), Document("copy", mangled, "u2"))
    assert ratio_of(result, "copy", "src")[0] == pytest.approx(norm_len(part) / norm_len(copy), abs=0.01)


def test_small_edits_lose_only_the_edited_characters():
    source = essay(0)
    part, copy = copied_half(source, essay(40, 4))
    chars = list(part)
    edited = 0
    for i in range(30, len(chars), 50):
        if "\u4e00" <= chars[i] <= "\u9fff":
            chars[i] = "啊"
            edited += 1
    copy = "".join(chars) + copy[len(part):]
    result = plain(Document("src", source, "u1"), Document("copy", copy, "u2"))
    expected = (norm_len(part) - edited) / norm_len(copy)
    assert ratio_of(result, "copy", "src")[0] == pytest.approx(expected, abs=0.03)


def test_reordered_paragraphs_are_found():
    source = essay(0)
    paragraphs = source.split("\n")
    copy = "\n".join(reversed(paragraphs[:4])) + "\n" + essay(40, 3)
    result = plain(Document("src", source, "u1"), Document("copy", copy, "u2"))
    share = norm_len("".join(paragraphs[:4])) / norm_len(copy)
    assert ratio_of(result, "copy", "src")[0] == pytest.approx(share, abs=0.02)


def test_traditional_conversion_is_found():
    source = essay(0)
    part, copy = copied_half(source, essay(40, 4))
    traditional = opencc.OpenCC("s2t").convert(part) + copy[len(part):]
    result = plain(Document("src", source, "u1"), Document("copy", traditional, "u2"))
    assert ratio_of(result, "copy", "src")[0] == pytest.approx(norm_len(part) / norm_len(copy), abs=0.03)
    assert result.essays["copy"].max_source == "src"


def test_pinyin_glosses_are_found():
    source = essay(0)
    part, copy = copied_half(source, essay(40, 4))
    glossed = "".join(ch + "(fā)" if i % 9 == 4 and "\u4e00" <= ch <= "\u9fff" else ch for i, ch in enumerate(part))
    result = plain(Document("src", source, "u1"), Document("copy", glossed + copy[len(part):], "u2"))
    assert ratio_of(result, "copy", "src")[0] == pytest.approx(norm_len(part) / norm_len(copy), abs=0.01)


def test_a_copy_of_the_notice_alone_makes_no_pair_but_a_high_notice_ratio():
    quoting = NOTICE + "\n" + essay(60, 1)
    result = run(Document("n1", quoting, "u1"), Document("n2", NOTICE + "\n" + essay(70, 1), "u2"))
    assert result.pairs == []
    assert result.essays["n1"].base_ratio > 0.25
    assert result.essays["n1"].total_ratio == 0.0


def test_boilerplate_only_overlap_makes_no_pair():
    slogans = "。".join(SLOGANS)
    a = slogans + "\n" + essay(0, 3) + "\n" + NOTICE[:60]
    b = essay(20, 3) + "\n" + slogans + "\n" + NOTICE[:60]
    result = run(Document("a", a, "u1"), Document("b", b, "u2"))
    assert result.pairs == []
    assert result.essays["a"].total_ratio == 0.0


def test_boilerplate_counts_when_it_is_not_declared_base():
    slogans = "。".join(SLOGANS)
    result = run(Document("a", slogans + essay(0, 3), "u1"), Document("b", essay(20, 3) + slogans, "u2"), bases=())
    assert result.essays["a"].total_ratio > 0


def test_a_model_essay_copied_by_many_surfaces_as_a_hot_passage():
    model = essay(100, 5)
    docs = [Document("model", model, "u0")]
    docs += [Document(f"c{i}", model.replace("。", "，") + "\n" + PARAS[i], f"u{i + 1}") for i in range(14)]
    docs += [Document(f"o{i}", essay(20 + i * 4, 4), f"x{i}") for i in range(5)]
    result = run(*docs, hot_min=10)
    hot = [h for h in result.hot if "model" in h.members]
    assert hot and set(hot[0].members) >= {"model", *(f"c{i}" for i in range(14))}
    for i in range(14):
        assert result.essays[f"c{i}"].total_ratio > 0.7
    assert {(p.a, p.b) for p in result.pairs} >= {("model", f"c{i}") for i in range(14)}


def test_the_same_group_is_never_compared():
    text = essay(0)
    result = run(Document("v1", text, "u1"), Document("v2", text, "u1"))
    assert result.pairs == []


def test_references_are_compared_with_essays_not_with_each_other():
    ref_text = essay(30, 5)
    copy = ref_text[:300] + "\n" + essay(50, 4)
    result = run(Document("e", copy, "u1"),
                 references=[Document("r1", ref_text), Document("r2", ref_text)])
    assert {(p.a, p.b) for p in result.pairs} == {("e", "r1"), ("e", "r2")}
    assert "r1" not in result.essays


def test_exact_duplicates_are_called_out():
    text = essay(0)
    result = plain(Document("a", text, "u1"), Document("b", text.replace("，", ","), "u2"))
    assert result.essays["a"].duplicates == ["b"]
    assert result.essays["a"].total_ratio == pytest.approx(1.0)


def test_unrelated_essays_make_no_pair():
    result = run(*(Document(f"e{i}", essay(i * 6), f"u{i}") for i in range(20)))
    assert result.pairs == []


def test_a_units_own_duplicate_is_no_duplicate():
    text = essay(0)
    result = plain(Document("a", text, "u1"), Document("b", text, "u1"), Document("c", essay(30), "u2"))
    assert result.essays["a"].duplicates == []


def test_a_hot_passage_is_shown_whole():
    stock = "我们要坚定不移地推进城市管理体制改革，努力把城市建设得更加整洁有序、安全宜居"
    docs = [Document(f"e{i}", essay(i * 5, 4) + "\n" + stock, f"u{i}") for i in range(13)]
    result = plain(*docs, hot_min=10)
    assert [h.text for h in result.hot] == [normalize(stock).text]
    assert len(result.hot[0].members) == 13


def test_kgram_spans_join_touching_kgrams_and_drop_short_stretches():
    from essays.similarity.align import kgram_spans
    from essays.similarity.fingerprint import K

    assert kgram_spans(np.array([30, 0, 5, 5 + K])) == [(0, 5 + 2 * K)]
    assert kgram_spans(np.array([0, 40])) == []  # each k-gram alone is under MIN_RUN
    assert kgram_spans(np.array([0, 40]), min_length=K) == [(0, K), (40, 40 + K)]


# --- the fast paths of a whole run give the answers of the plain ones ------------------------

U64 = st.integers(0, 2**64 - 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=300), st.integers(1, 8))
def test_winnowing_without_a_sort_picks_what_np_unique_picked(values, w):
    from essays.similarity.fingerprint import winnow

    hashes = np.array(values, dtype=np.uint64)  # small values: many ties
    got = winnow(hashes, w)
    if len(hashes) > w:
        windows = np.lib.stride_tricks.sliding_window_view(hashes, w)
        picked = (w - 1 - np.argmin(windows[:, ::-1], axis=1)) + np.arange(len(windows))
        expected = np.unique(picked).astype(np.int32)
        assert np.array_equal(got.positions, expected) and got.positions.dtype == np.int32
        assert np.array_equal(got.hashes, hashes[expected])


@settings(max_examples=100, deadline=None)
@given(st.lists(U64, max_size=300), st.lists(U64, max_size=300), st.data())
def test_the_hash_set_answers_as_np_isin(members, others, data):
    from essays.similarity.fingerprint import HashSet

    sorted_unique = np.unique(np.array(members, dtype=np.uint64))
    values = np.array(others + data.draw(st.lists(st.sampled_from(members), max_size=50)) if members else others,
                      dtype=np.uint64)
    assert np.array_equal(HashSet(sorted_unique).contains(values), np.isin(values, sorted_unique))


def test_the_base_mask_is_the_one_np_isin_gave():
    from essays.similarity.base import BASE_K, base_mask, build_base
    from essays.similarity.fingerprint import kgram_hashes

    base = build_base([NOTICE, *SLOGANS, "党的二十大"])
    for text in [NOTICE + PARAS[3], PARAS[0] + SLOGANS[1] + PARAS[1], "人民" * 40, PARAS[5][:7], ""]:
        norm = normalize(text).text
        expected = np.zeros(len(norm), dtype=bool)
        if len(norm) >= BASE_K:
            for start in np.flatnonzero(np.isin(kgram_hashes(norm, BASE_K), base.hashes)):
                expected[start:start + BASE_K] = True
        for quote in base.short:
            at = norm.find(quote)
            while at >= 0:
                expected[at:at + len(quote)] = True
                at = norm.find(quote, at + 1)
        assert np.array_equal(base_mask(norm, base), expected)


def _index_by_lexsort(docs):
    """The index as it was built before (a lexsort of every (hash, doc)), kept as the reference."""
    prints = [d.free_print() for d in docs]
    hashes = np.concatenate([p.hashes for p in prints])
    ids = np.concatenate([np.full(len(p), i, dtype=np.int32) for i, p in enumerate(prints)])
    order = np.lexsort((ids, hashes))
    hashes, ids = hashes[order], ids[order]
    keep = np.concatenate(([True], (hashes[1:] != hashes[:-1]) | (ids[1:] != ids[:-1])))
    hashes, ids = hashes[keep], ids[keep]
    starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
    sizes = np.diff(np.concatenate((starts, [len(hashes)])))
    return hashes, ids, starts, sizes


def test_the_index_holds_the_groups_of_two_or_more_the_lexsort_gave():
    from essays.similarity import corpus, corpus_index
    from essays.similarity.base import build_base
    from essays.similarity.compare import prepare

    base = build_base([NOTICE, *SLOGANS])
    texts = [essay(i, 4) for i in range(0, 40, 3)] + [essay(0, 3) + essay(20, 2), "的重要" * 30 + essay(9, 2), ""]
    docs = [corpus.light(prepare(f"d{i}", t, base)) for i, t in enumerate(texts)]
    hashes, ids, starts, sizes = corpus_index.index(docs)
    h0, i0, s0, z0 = _index_by_lexsort(docs)
    groups = {int(h0[s]): i0[s:s + z].tolist() for s, z in zip(s0, z0, strict=True) if z >= 2}
    assert len(groups) > 10
    assert {int(hashes[s]): ids[s:s + z].tolist() for s, z in zip(starts, sizes, strict=True)} == groups
    assert np.array_equal(starts, np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1]))))


def test_a_light_document_compares_as_the_whole_one():
    from essays.similarity.base import build_base
    from essays.similarity.compare import match, prepare
    from essays.similarity.corpus import light

    base = build_base([NOTICE, *SLOGANS])
    a = prepare("a", NOTICE + essay(0, 3) + SLOGANS[0] + essay(30, 2), base)
    b = prepare("b", essay(0, 2) + NOTICE + essay(31, 1), base)
    whole, lit = match(a, b), match(light(a), light(b))
    assert whole is not None and lit is not None
    assert whole.runs == lit.runs and (whole.shared_a, whole.shared_b) == (lit.shared_a, lit.shared_b)
    assert np.array_equal(whole.covered_a, lit.covered_a)
    assert light(a).base_ratio() == a.base_ratio() and light(a).digest == a.digest


def _traces_of(text: str) -> int:
    return len(text)


def test_per_text_work_runs_for_the_essays_asked_in_the_workers_too():
    docs = [Document(f"e{i}", essay(i * 6), f"g{i}") for i in range(4)]
    refs = [Document("r", essay(40))]
    for workers in (1, 2):
        result = compare_corpus(docs, refs, [NOTICE], workers=workers, per_text=_traces_of,
                                per_text_for={"e1", "e3", "r"})
        assert result.per_text == {"e1": len(docs[1].text), "e3": len(docs[3].text)}  # references never
        every = compare_corpus(docs, refs, [NOTICE], workers=workers, per_text=_traces_of)
        assert set(every.per_text) == {"e0", "e1", "e2", "e3"}


def test_a_run_leaves_no_worker_process_behind():
    """Pools are joined: an idle worker left alive keeps copies of the parent's pipes (a
    browser driver's stdin, in the test suite, which then never saw its end and hung)."""
    import multiprocessing
    import threading

    docs = [Document(f"e{i}", essay(i * 6), f"g{i}") for i in range(4)]
    compare_corpus(docs, [Document("r", essay(40))], [NOTICE], workers=2)
    assert multiprocessing.active_children() == []
    assert not [t for t in threading.enumerate() if t.name.endswith(("_handle_tasks)", "_handle_results)"))]
