"""Fine-tuning memory and pretraining compute."""

from __future__ import annotations

import pytest

from llmscout.catalog import get_model
from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.estimate import finetune_memory, pretraining_cost
from llmscout.estimate.finetune import activation_bytes, lora_params
from llmscout.hardware import GIB, Hardware

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


def gpu(memory_gb=80.0, **kw) -> Hardware:
    base = dict(fp16_tflops=989.0, tdp_w=700.0)
    base.update(kw)
    return Hardware(id="g", name="G", vendor="t", device_kind="gpu",
                    memory_bytes=int(memory_gb * GIB), bandwidth_gbs=3350.0, source="test", **base)


def test_full_fine_tuning_keeps_16_bytes_per_parameter_before_activations():
    fm = finetune_memory(get_model(LLAMA), "full")
    n = get_model(LLAMA).params
    assert fm.weights_bytes + fm.gradients_bytes + fm.master_weights_bytes + fm.optimizer_bytes \
        == 16 * n
    assert fm.trainable_params == n


def test_lora_trainable_params_are_rank_times_in_plus_out():
    a = get_model(LLAMA).architecture
    # per layer: q (4096+4096) + k (4096+1024) + v (4096+1024) + o (4096+4096), rank 16
    assert lora_params(a, 16) == 32 * 16 * (8192 + 5120 + 5120 + 8192)
    assert lora_params(a, 16, "all-linear") > lora_params(a, 16)


def test_lora_is_far_smaller_than_full_and_qlora_smaller_still():
    m = get_model(LLAMA)
    full = finetune_memory(m, "full")
    lora = finetune_memory(m, "lora")
    qlora = finetune_memory(m, "qlora")
    assert qlora.total_bytes < lora.total_bytes < full.total_bytes / 3


def test_qlora_base_weights_are_about_half_a_byte_per_linear_parameter():
    m = get_model(LLAMA)
    qlora = finetune_memory(m, "qlora")
    embed = 2 * 128256 * 4096
    linear = m.params - embed
    assert qlora.weights_bytes == pytest.approx(linear * 4.127 / 8 + 2 * embed, rel=1e-3)
    assert qlora.gradient_checkpointing  # the QLoRA recipe trains with checkpointing


def test_gradient_checkpointing_cuts_activation_memory():
    a = get_model(LLAMA).architecture
    logits = 2 * 4 * 4096 * 128256 * 4  # fp32 logits and their gradient, kept either way
    with_ckpt = activation_bytes(a, 4, 4096, True) - logits
    without = activation_bytes(a, 4, 4096, False) - logits
    assert with_ckpt < without / 10


def test_activations_grow_with_batch_and_sequence():
    a = get_model(LLAMA).architecture
    assert activation_bytes(a, 2, 2048, False) > activation_bytes(a, 1, 2048, False)
    assert activation_bytes(a, 1, 4096, False) > activation_bytes(a, 1, 2048, False)


def test_fits_is_judged_against_the_hardware():
    assert finetune_memory(get_model(LLAMA), "qlora", hardware=gpu(24)).fits is True
    assert finetune_memory(get_model(LLAMA), "full", hardware=gpu(24)).fits is False
    assert finetune_memory(get_model(LLAMA), "qlora").fits is None


def test_pretraining_is_6_n_d_flops_at_the_given_utilisation():
    # 1B params, Chinchilla 20B tokens: 1.2e20 FLOP / (989e12 x 0.4) / 3600 = 84.3 GPU-hours
    p = pretraining_cost(1_000_000_000, gpu(), price_per_gpu_hour=2.0)
    assert p.tokens == 20_000_000_000
    assert p.flops == pytest.approx(1.2e20)
    assert p.gpu_hours == pytest.approx(1.2e20 / (989e12 * 0.4) / 3600)
    assert p.cost == pytest.approx(p.gpu_hours * 2.0)
    assert p.energy_kwh == pytest.approx(p.gpu_hours * 0.7)


def test_wall_clock_divides_by_the_number_of_gpus():
    p = pretraining_cost(10**9, gpu(count=8))
    assert p.wall_clock_hours == pytest.approx(p.gpu_hours / 8)
    assert p.cost is None


def test_pretraining_needs_a_compute_figure():
    with pytest.raises(IncompatibleError, match="fp16_tflops"):
        pretraining_cost(10**9, gpu(fp16_tflops=None))


@pytest.mark.parametrize(("kw", "field"), [
    ({"method": "dpo"}, "method"), ({"rank": 0}, "rank"), ({"batch": -1}, "batch"),
    ({"optimizer": "lion"}, "optimizer"), ({"target_modules": ("q", "nope")}, "target_modules"),
])
def test_bad_finetune_inputs_name_the_field(kw, field):
    with pytest.raises(InvalidValueError) as err:
        finetune_memory(get_model(LLAMA), **kw)
    assert err.value.field == field


def test_bad_mfu_is_rejected():
    with pytest.raises(InvalidValueError, match="mfu"):
        pretraining_cost(10**9, gpu(), mfu=1.5)
