"""Copies of data derived from shipped files, kept between runs (auditor/datacache.py): the
language model unpacked, the Chinese lexicon, the injection screen's table — the same as
deriving them again, read back instead, and never trusted when damaged or stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import py3langid.modelio
import pytest
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from auditor.ingest import language

TEXTS = [
    "hola, necesito ayuda con mi pedido, no ha llegado todavía",
    "Guten Tag, meine Bestellung ist noch nicht angekommen",
    "bonjour, ma commande n'est pas encore arrivée",
    "ok",
]


@pytest.fixture(scope="module")
def reference() -> tuple[Any, ...]:
    return py3langid.modelio.load_model(Path(MODEL_DIR) / MODEL_FILE)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert len(a) == len(b) == 6
    for x, y in zip(a, b, strict=True):
        assert type(x) is type(y)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert np.array_equal(x, y)
        else:
            assert getattr(x, "typecode", None) == getattr(y, "typecode", None)
            assert x == y


def _files(d: Path) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.name.startswith("py3langid-"))


def test_unpacked_once_then_read_back(tmp_path, monkeypatch, reference) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    first = language._model_arrays()
    _same(first, reference)
    [written] = _files(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))

    def no_unpacking(path: Any) -> Any:
        raise AssertionError("the model was unpacked again")

    monkeypatch.setattr(py3langid.modelio, "load_model", no_unpacking)
    again = language._model_arrays()
    _same(again, reference)
    assert _files(tmp_path) == [written]
    # the identifier built from the copy classifies as py3langid's own
    ident = LanguageIdentifier(*again[:4], again[5], norm_probs=True, tk_row=again[4])
    theirs = LanguageIdentifier(*reference[:4], reference[5], norm_probs=True, tk_row=reference[4])
    for text in TEXTS:
        assert ident.classify(text) == theirs.classify(text)


def test_a_copy_cut_short_is_unpacked_again(tmp_path, monkeypatch, reference) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    language._model_arrays()
    [written] = _files(tmp_path)
    whole = written.read_bytes()
    written.write_bytes(whole[: len(whole) // 2])
    _same(language._model_arrays(), reference)
    assert written.read_bytes() == whole  # written whole again
    written.write_bytes(whole + b"x")  # trailing bytes: not this format either
    _same(language._model_arrays(), reference)
    assert written.read_bytes() == whole


def test_nowhere_to_write(tmp_path, monkeypatch, reference) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(blocker / "auditor"))
    _same(language._model_arrays(), reference)


def test_a_changed_model_is_not_read_from_the_old_copy(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    language._model_arrays()
    [old] = _files(tmp_path)
    # the copy is named by the model file's bytes (and the layout's version)
    digest = old.name.split("-")[1]
    assert len(digest) == 32
    assert old.name.endswith(f"-v{language.UNPACKED_FORMAT}.npy")
    import hashlib

    packed = (Path(MODEL_DIR) / MODEL_FILE).read_bytes()
    assert digest == hashlib.blake2b(packed, digest_size=16).hexdigest()


def test_the_chinese_lexicon_is_unpacked_once(tmp_path, monkeypatch) -> None:
    """auditor/datacache.py ``unpacked``: the same bytes as unpacking the shipped file, read
    back (content checked) instead of unpacking again; a damaged copy is written again."""
    import lzma
    from importlib import resources

    from auditor import datacache
    from auditor.typos import zhdata

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    raw = resources.files("auditor.typos.data").joinpath("zh_lexicon.bin.xz").read_bytes()
    expected = lzma.decompress(raw)
    zhdata.lexicon.cache_clear()
    try:
        assert zhdata.lexicon().words == zhdata.Lexicon(expected).words
    finally:
        zhdata.lexicon.cache_clear()
    [copy] = [p for p in tmp_path.iterdir() if p.name.startswith("zh_lexicon-")]
    assert copy.name == f"zh_lexicon-{datacache.digest(raw)}.bin"

    def no_unpacking(data: bytes) -> bytes:
        raise AssertionError("unpacked again")

    assert datacache.unpacked("zh_lexicon", raw, no_unpacking) == expected
    whole = copy.read_bytes()
    damaged = bytearray(whole)
    damaged[len(whole) // 2] ^= 1  # one bit
    copy.write_bytes(bytes(damaged))
    assert datacache.unpacked("zh_lexicon", raw, lzma.decompress) == expected
    assert copy.read_bytes() == whole
    copy.write_bytes(whole[:100])  # cut short
    assert datacache.unpacked("zh_lexicon", raw, lzma.decompress) == expected
    assert copy.read_bytes() == whole
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "file" / "sub"))
    (tmp_path / "file").write_text("")  # nowhere to write
    assert datacache.unpacked("zh_lexicon", raw, lzma.decompress) == expected


def test_the_injection_table_is_built_once(tmp_path, monkeypatch) -> None:
    """The compact view's table read back is the table built; it is named by what it is made
    of, so an edit of the module (or another Python, Unicode data or confusables file) builds
    it again."""
    from auditor.grading import injection_views as views

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    built = views._build_table()
    views._table.cache_clear()
    try:
        assert views._table() == built
        [copy] = list(tmp_path.glob("injection-table-*.bin"))
        views._table.cache_clear()
        monkeypatch.setattr(views, "_build_table", lambda: pytest.fail("built again"))
        assert views._table() == built
        # made of something else (here: another Python): another name, built again
        monkeypatch.setattr(views, "_build_table", lambda: built)
        monkeypatch.setattr(views.sys, "version", views.sys.version + " other")
        views._table.cache_clear()
        assert views._table() == built
        # ... and the stale copy is removed (upgrades do not pile copies up)
        [new] = list(tmp_path.glob("injection-table-*.bin"))
        assert new != copy and not copy.exists()
    finally:
        views._table.cache_clear()
    assert None in built and "" not in built  # the empty entry stands for None alone


def test_off_keeps_nothing_on_disk(tmp_path, monkeypatch, reference) -> None:
    from auditor import datacache

    monkeypatch.setenv("AUDITOR_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    _same(language._model_arrays(), reference)
    assert datacache.unpacked("x", b"packed", lambda b: b + b"!") == b"packed!"
    assert list(tmp_path.iterdir()) == []


def test_a_new_derivation_replaces_the_old_ones(tmp_path, monkeypatch) -> None:
    from auditor import datacache

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    assert datacache.unpacked("thing", b"v1", lambda b: b * 2) == b"v1v1"
    [first] = tmp_path.iterdir()
    (tmp_path / "other-1234.bin").write_bytes(b"kept")  # another name's copy stays
    assert datacache.unpacked("thing", b"v2", lambda b: b * 3) == b"v2v2v2"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert first.name not in names
    assert names == sorted([f"thing-{datacache.digest(b'v2')}.bin", "other-1234.bin"])


def test_the_gzip_tables_are_unpacked_once(tmp_path, monkeypatch) -> None:
    """The English correction index and the Chinese character model, kept decompressed the
    first time: the same tables as from the shipped files, then read back without gunzip."""
    import gzip

    from auditor.typos import en_index, zhchars

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    packed = en_index.INDEX_FILE.read_bytes()
    ref_index = en_index.load(packed, None)
    model_file = Path(zhchars.__file__).with_name("data") / "zh_char_ngrams.bin.gz"
    ref_model = zhchars.read_tables(gzip.decompress(model_file.read_bytes()))
    assert ref_index is not None

    def tables() -> tuple[Any, Any]:
        en_index.suggest_index.cache_clear()
        zhchars.char_model.cache_clear()
        try:
            return en_index.suggest_index(), zhchars.char_model()
        finally:
            en_index.suggest_index.cache_clear()
            zhchars.char_model.cache_clear()

    for round_ in ("written", "read back"):
        index, model = tables()
        assert index.source == "shipped"
        assert (index.words, index.keys, index.starts, index.postings) == (
            ref_index.words,
            ref_index.keys,
            ref_index.starts,
            ref_index.postings,
        )
        assert list(index.freq.items()) == list(ref_index.freq.items())
        assert vars(model) == vars(ref_model)
        names = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
        assert names == ["en_suggest", "zh_char_ngrams"], round_

        def no_gunzip(data: bytes) -> bytes:
            raise AssertionError("decompressed again")

        monkeypatch.setattr(gzip, "decompress", no_gunzip)
