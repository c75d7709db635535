"""The GGUF header reader and the ModelSpec it builds, on the real Gemma 3 270M file, on tiny
files written by llama.cpp's own tools, and on hand-made broken headers."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import time

import pytest

from llmscout.catalog import bundled_catalog
from llmscout.catalog.params import count_params
from llmscout.catalog.sources.gguf import (
    GGML_TYPES,
    LLAMA_FTYPES,
    GGUFArray,
    gguf_info,
    gguf_to_spec,
    read_gguf_header,
)
from llmscout.errors import InvalidFileError, LlmscoutError, MissingFileError

pytest_plugins = ["_gguf_fixtures"]  # gemma_gguf, tiny_gguf, tiny_gguf_q4km, synth_gguf

requires_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed")

GEMMA_PARAMS = 268_098_176  # safetensors metadata on https://huggingface.co/google/gemma-3-270m


# -- the real Gemma 3 270M file ------------------------------------------------------------------


def test_gemma_header_read_skips_the_vocabulary(gemma_gguf):
    # A reader that materialises the 262k token strings (gguf.GGUFReader) takes 8-18 s here;
    # skipping them takes ~0.05 s. The bound tells the two apart even on a loaded CI machine;
    # the speed itself is measured in bench/cli_speed.py.
    read_gguf_header(gemma_gguf)  # page cache warm, as for a user running the CLI twice
    best = min(_timed(read_gguf_header, gemma_gguf) for _ in range(3))
    assert best <= 1.0


def _timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def test_gemma_metadata_scalars(gemma_gguf):
    h = read_gguf_header(gemma_gguf)
    assert h.version == 3
    assert h.architecture == "gemma3"
    assert h.arch_get("block_count") == 18
    assert h.arch_get("attention.sliding_window") == 512
    assert h.get("general.file_type") == 15
    assert len(h.tensors) == 236


def test_gemma_vocabulary_array_keeps_only_type_and_length(gemma_gguf):
    tokens = read_gguf_header(gemma_gguf).get("tokenizer.ggml.tokens")
    assert tokens == GGUFArray("string", 262_144, None)


def test_short_arrays_keep_their_values(gemma_gguf):
    tags = read_gguf_header(gemma_gguf).get("general.tags")
    assert tags.values == ("gemma3", "gemma", "google", "text-generation")


def test_gemma_spec_matches_the_catalog_architecture(gemma_gguf):
    arch = gguf_to_spec(gemma_gguf).architecture
    ref = bundled_catalog().get("google/gemma-3-270m").architecture
    for name in ("num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim",
                 "intermediate_size", "vocab_size", "max_position_embeddings", "tied_embeddings",
                 "sliding_window", "num_sliding_layers", "rope_theta"):
        assert getattr(arch, name) == getattr(ref, name), name


def test_gemma_parameter_count_is_exact(gemma_gguf):
    assert gguf_to_spec(gemma_gguf).params == GEMMA_PARAMS


def test_gemma_quant_and_artifact(gemma_gguf):
    spec = gguf_to_spec(gemma_gguf)
    (art,) = spec.artifacts
    assert (art.format, art.quant, art.size_bytes) == ("gguf", "Q4_K_M", gemma_gguf.stat().st_size)


def test_gemma_identity_and_origin(gemma_gguf):
    spec = gguf_to_spec(gemma_gguf)
    path = gemma_gguf.resolve()
    assert spec.id == f"gguf:{path}"
    assert spec.origin == "gguf"
    assert spec.sources["identity"] == f"file:{path}"
    assert spec.tuning == ("base",)


def test_gemma_has_no_chat_template(gemma_gguf):
    info = gguf_info(gemma_gguf)
    assert not info.has_chat_template and info.chat_template is None


def test_tensor_sizes_match_the_gaps_between_offsets(gemma_gguf):
    h = read_gguf_header(gemma_gguf)
    ordered = sorted(h.tensors, key=lambda t: t.offset)
    for a, b in zip(ordered, ordered[1:], strict=False):
        padded = -(-a.n_bytes // h.alignment) * h.alignment
        assert b.offset - a.offset == padded, a.name
    assert h.data_offset + ordered[-1].offset + ordered[-1].n_bytes == h.file_size


def test_type_histogram_covers_every_tensor(gemma_gguf):
    info = gguf_info(gemma_gguf)
    hist = info.type_histogram
    assert set(hist) == {"Q8_0", "Q5_0", "Q4_K", "Q6_K", "F32"}
    assert sum(s.count for s in hist.values()) == 236
    assert sum(s.params for s in hist.values()) == GEMMA_PARAMS
    assert sum(s.bytes for s in hist.values()) == info.tensor_bytes
    assert hist["Q4_K"].bits_per_weight == 4.5


def test_info_to_dict_is_json(gemma_gguf):
    d = json.loads(json.dumps(gguf_info(gemma_gguf).to_dict()))
    assert d["quant"] == "Q4_K_M"
    assert d["metadata"]["tokenizer.ggml.tokens"]["length"] == 262_144
    assert d["type_histogram"]["Q8_0"]["count"] == 10


# -- tables against llama.cpp itself -------------------------------------------------------------


@requires_llama_cpp
def test_type_table_matches_the_installed_ggml():
    import ctypes
    from pathlib import Path

    import llama_cpp

    lib = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
    lib.ggml_type_size.restype = ctypes.c_size_t
    lib.ggml_blck_size.restype = ctypes.c_int64
    for t in GGML_TYPES.values():
        got = (lib.ggml_blck_size(t.id), lib.ggml_type_size(t.id))
        assert got == (t.block_size, t.type_size), t.name


@requires_llama_cpp
def test_file_type_table_matches_llama_cpp():
    import llama_cpp

    for value, name in LLAMA_FTYPES.items():
        const = "LLAMA_FTYPE_ALL_F32" if name == "F32" else f"LLAMA_FTYPE_MOSTLY_{name}"
        assert getattr(llama_cpp, const, value) == value, const


# -- files written by gguf-py and llama.cpp ------------------------------------------------------


def test_metadata_matches_gguf_reader(tiny_gguf):
    from gguf import GGUFReader

    ours = read_gguf_header(tiny_gguf)
    theirs = GGUFReader(tiny_gguf)
    assert set(ours.metadata) == {k for k in theirs.fields if not k.startswith("GGUF.")}
    for key, fld in theirs.fields.items():
        if key.startswith("GGUF."):
            continue
        value = ours.metadata[key]
        if isinstance(value, GGUFArray):
            assert value.length == len(fld.data), key
        else:
            assert value == pytest.approx(fld.contents()), key


def test_tensor_infos_match_gguf_reader(tiny_gguf_q4km):
    from gguf import GGUFReader

    ours = read_gguf_header(tiny_gguf_q4km)
    theirs = GGUFReader(tiny_gguf_q4km)
    assert [(t.name, t.shape, t.ggml_type, t.n_bytes) for t in ours.tensors] == [
        (t.name, tuple(int(d) for d in t.shape), int(t.tensor_type), int(t.n_bytes))
        for t in theirs.tensors
    ]
    assert ours.data_offset == theirs.data_offset


def test_quantized_file_reports_its_quant(tiny_gguf_q4km):
    info = gguf_info(tiny_gguf_q4km)
    assert (info.quant, info.file_type, info.quant_guessed) == ("Q4_K_M", 15, False)
    assert "Q4_K" in info.type_histogram


def test_f16_file_is_an_unquantized_artifact(tiny_gguf):
    (art,) = gguf_to_spec(tiny_gguf).artifacts
    assert (art.quant, art.precision) == (None, "fp16")


def test_untied_model_is_detected(tiny_gguf):
    assert gguf_to_spec(tiny_gguf).architecture.tied_embeddings is False


def test_parameter_count_agrees_with_the_architecture_formula(tiny_gguf):
    spec = gguf_to_spec(tiny_gguf)
    assert spec.params == count_params(spec.architecture).total


def test_qkv_bias_is_detected(synth_gguf):
    assert gguf_to_spec(synth_gguf("qwen2")).architecture.attention_bias is True


def test_mixture_of_experts_layout_and_active_params(synth_gguf):
    spec = gguf_to_spec(synth_gguf("moe"))
    e = spec.architecture.experts
    assert (e.num_experts, e.experts_per_token, e.expert_intermediate_size) == (4, 2, 256)
    pc = count_params(spec.architecture)
    assert (spec.params, spec.active_params) == (pc.total, pc.active)


def test_instruct_tuning_read_from_the_file_name(tiny_gguf, tmp_path):
    copy = tmp_path / "tiny-Instruct-F16.gguf"
    shutil.copy(tiny_gguf, copy)
    assert gguf_to_spec(copy).tuning == ("instruct",)


def test_chat_template_is_read(synth_gguf):
    info = gguf_info(synth_gguf("llama", chat_template="{{ messages }}"))
    assert info.has_chat_template and info.chat_template == "{{ messages }}"


# -- hand-made headers -----------------------------------------------------------------------------


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


def _ti(name: str, shape: tuple[int, ...], gtype: int, offset: int = 0) -> bytes:
    return (_s(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
            + struct.pack("<IQ", gtype, offset))


def _gguf(kvs=(), tensors=(), data=b"", *, magic=b"GGUF", version=3, n_kv=None,
          n_tensors=None) -> bytes:
    head = magic + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    body = head + b"".join(kvs) + b"".join(tensors)
    return body + b"\0" * (-len(body) % 32) + data


ARCH = _kv("general.architecture", 8, _s("llama"))


def test_every_value_type_is_parsed(tmp_path):
    kvs = [ARCH, _kv("u8", 0, b"\x07"), _kv("i8", 1, b"\xff"),
           _kv("u16", 2, struct.pack("<H", 65535)),
           _kv("i16", 3, struct.pack("<h", -2)), _kv("u32", 4, struct.pack("<I", 7)),
           _kv("i32", 5, struct.pack("<i", -7)), _kv("f32", 6, struct.pack("<f", 0.5)),
           _kv("bool", 7, b"\x01"), _kv("u64", 10, struct.pack("<Q", 2**40)),
           _kv("i64", 11, struct.pack("<q", -(2**40))), _kv("f64", 12, struct.pack("<d", 0.25)),
           _kv("nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQII", 4, 2, 3, 4))]
    path = tmp_path / "types.gguf"
    path.write_bytes(_gguf(kvs))
    m = read_gguf_header(path).metadata
    keys = ("u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "u64", "i64", "f64")
    assert [m[k] for k in keys] == [
        7, -1, 65535, -2, 7, -7, 0.5, True, 2**40, -(2**40), 0.25]
    assert m["nested"] == GGUFArray("array", 1, (GGUFArray("uint32", 2, (3, 4)),))


def test_quant_is_guessed_without_file_type(tmp_path):
    path = tmp_path / "nofiletype.gguf"
    path.write_bytes(_gguf([ARCH], [_ti("w", (32, 2), 8)], data=b"\0" * 68))
    info = gguf_info(path)
    assert (info.quant, info.quant_guessed, info.params) == ("Q8_0", True, 64)


BROKEN = {
    "wrong magic": (_gguf([ARCH], magic=b"GGML"), "not a GGUF file"),
    "version 1": (_gguf([ARCH], version=1), "version 1 is not supported"),
    "absurd tensor count": (_gguf([ARCH], n_tensors=2**60),
                            "claims 1,152,921,504,606,846,976 tensors"),
    "absurd key count": (_gguf([ARCH], n_kv=2**62), "metadata keys"),
    "huge string": (_gguf([_s("k") + struct.pack("<IQ", 8, 2**62)]), "truncated"),
    "huge array": (_gguf([_kv("k", 9, struct.pack("<IQ", 6, 2**61))]), "past the end of the file"),
    "huge string array": (_gguf([_kv("k", 9, struct.pack("<IQ", 8, 2**61))]),
                          "past the end of the file"),
    "deeply nested arrays": (_gguf([_kv("k", 9, struct.pack("<IQ", 9, 1) * 100 + b"\0" * 64)]),
                             "nests arrays"),
    "huge key": (_gguf([struct.pack("<Q", 2**20) + b"k" * 2**20]), "at most 65,535"),
    "unknown value type": (_gguf([_kv("k", 99, b"")]), "unknown value type 99"),
    "too many dims": (_gguf([ARCH], [_ti("w", (1,) * 9, 0)]), "9 dimensions"),
    "unknown ggml type": (_gguf([ARCH], [_ti("w", (32,), 77)]), "ggml type 77"),
    "partial block": (_gguf([ARCH], [_ti("w", (33,), 8)]), "not a multiple"),
    "bad alignment": (_gguf([_kv("general.alignment", 4, struct.pack("<I", 24))]), "power of two"),
    "tensor data missing": (_gguf([ARCH], [_ti("w", (1024, 1024), 0)]), "tensor 'w' ends at byte"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_headers_raise_invalid_file_naming_the_problem(tmp_path, case):
    data, problem = BROKEN[case]
    path = tmp_path / "broken.gguf"
    path.write_bytes(data)
    with pytest.raises(InvalidFileError) as exc:
        read_gguf_header(path)
    assert problem in str(exc.value) and str(path) in str(exc.value)


def test_truncated_download_is_reported(tiny_gguf, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:-1000])
    with pytest.raises(InvalidFileError, match="truncated.*incomplete"):
        gguf_to_spec(cut)


def test_file_cut_inside_the_vocabulary_is_reported(tiny_gguf, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:2000])
    with pytest.raises(InvalidFileError, match="truncated"):
        read_gguf_header(cut)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with pytest.raises(InvalidFileError, match="too short"):
        read_gguf_header(path)


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="nope.gguf"):
        gguf_to_spec(tmp_path / "nope.gguf")


def test_folder_is_not_a_gguf(tmp_path):
    with pytest.raises(InvalidFileError, match="folder"):
        read_gguf_header(tmp_path)


def test_errors_are_llmscout_errors_and_builtin_types(tmp_path):
    path = tmp_path / "x.gguf"
    path.write_bytes(b"not a gguf file at all, no sir")
    with pytest.raises(LlmscoutError) as exc:
        read_gguf_header(path)
    assert isinstance(exc.value, ValueError)


def test_missing_shard_of_a_split_model(tmp_path):
    kvs = [ARCH, _kv("split.count", 2, struct.pack("<H", 2))]
    first = tmp_path / "m-00001-of-00002.gguf"
    first.write_bytes(_gguf(kvs, [_ti("w", (32,), 0)], data=b"\0" * 128))
    with pytest.raises(MissingFileError, match="m-00002-of-00002.gguf"):
        gguf_info(first)


def test_split_model_counts_every_shard(tmp_path):
    kvs = [ARCH, _kv("split.count", 2, struct.pack("<H", 2))]
    first, second = tmp_path / "m-00001-of-00002.gguf", tmp_path / "m-00002-of-00002.gguf"
    first.write_bytes(_gguf(kvs, [_ti("a", (32,), 0)], data=b"\0" * 128))
    second.write_bytes(_gguf(kvs, [_ti("b", (64,), 0)], data=b"\0" * 256))
    info = gguf_info(first)
    assert (info.params, info.tensor_count, info.split_count) == (96, 2, 2)
