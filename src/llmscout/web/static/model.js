/* Model page: facts, and a context slider that refetches /api/estimate and redraws the bar. */
"use strict";

(() => {
  const { api, el, clear, bytes, num, showError, hideError, memoryBar } = LS;
  const root = document.getElementById("model");
  const modelId = root.dataset.modelId;
  const hardware = root.dataset.hardware || "auto";
  const slider = document.getElementById("ctx");
  const label = document.getElementById("ctx-value");
  const errorBox = document.getElementById("est-error");
  let steps = [];
  let seq = 0;
  let timer = null;

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === "") return;
    dl.append(el("dt", {}, name), el("dd", {}, String(value)));
  }

  function renderFacts(m) {
    const dl = clear(document.getElementById("facts"));
    fact(dl, "family", m.family);
    fact(dl, "developer", m.developer);
    fact(dl, "kind", m.kind);
    fact(dl, "parameters", m.params ? `${num(m.params / 1e9, 2)} B` : null);
    if (m.active_params && m.active_params !== m.params) fact(dl, "active parameters", `${num(m.active_params / 1e9, 2)} B`);
    fact(dl, "context length", m.context_length ? `${num(m.context_length, 0)} tokens` : null);
    fact(dl, "tuning", (m.tuning || []).join(", "));
    fact(dl, "licence", m.license + (m.gated ? " (gated: accept the terms first)" : ""));
    const quants = [...new Set((m.artifacts || []).map((a) => a.quant).filter(Boolean))];
    fact(dl, "quantizations", quants.join(", "));
    const bench = (m.benchmarks || []).slice(0, 6).map((b) => `${b.name} ${b.score} (${b.kind || "?"})`);
    fact(dl, "benchmarks", bench.join("; "));
  }

  function contextSteps(max) {
    const out = [];
    for (let c = 256; c < max; c *= 2) out.push(c);
    out.push(max);
    return out;
  }

  function renderEstimate(d) {
    document.getElementById("hw-name").textContent = d.hardware ? d.hardware.name : hardware;
    const figure = document.getElementById("mem-figure");
    if (!d.memory) { // a hosted API: nothing is loaded on this hardware
      clear(document.getElementById("membar"));
      clear(document.getElementById("mem-legend"));
      const cost = d.cost || {};
      figure.textContent = `hosted API: no memory used on your hardware; ` +
        `${LS.money(cost.per_month)} per month at ${num(cost.requests_per_month, 0)} requests (estimated)`;
    } else {
      const { total, usable } = memoryBar(document.getElementById("membar"),
                                          document.getElementById("mem-legend"), d.memory);
      figure.textContent =
        `${bytes(total)} needed of ${bytes(usable)} usable at ${num(d.context, 0)} tokens ` +
        `(${d.quant}, ${d.engine}): ${d.fits ? "fits" : "does NOT fit"} — estimated`;
    }
    const sp = d.speed || {};
    const dl = clear(document.getElementById("speed"));
    const band = (v, lo, hi) => `${num(v)} tok/s (${num(lo)}–${num(hi)})`;
    if (sp.decode_tokens_per_s !== undefined) {
      dl.append(el("dt", {}, "decode"), el("dd", { id: "decode" }, band(sp.decode_tokens_per_s, sp.decode_low, sp.decode_high)));
      dl.append(el("dt", {}, "prefill"), el("dd", { id: "prefill" }, band(sp.prefill_tokens_per_s, sp.prefill_low, sp.prefill_high)));
      dl.append(el("dt", {}, "first token"), el("dd", {}, `${num(sp.ttft_s, 2)} s for ${num(d.prompt_tokens, 0)} prompt tokens`));
      dl.append(el("dt", {}, "basis"), el("dd", {}, sp.basis || "formula"));
    }
    if (d.max_context) {
      dl.append(el("dt", {}, "largest context that fits"), el("dd", {}, `${num(d.max_context, 0)} tokens`));
    }
    const notes = clear(document.getElementById("notes"));
    for (const n of d.notes || []) notes.append(el("li", {}, n));
  }

  async function refresh() {
    const mine = ++seq;
    const context = steps[Number(slider.value)];
    const q = new URLSearchParams({ model: modelId, hardware, context: String(context) });
    if (root.dataset.quant) q.set("quant", root.dataset.quant);
    if (root.dataset.engine && root.dataset.engine !== "cloud") q.set("engine", root.dataset.engine);
    try {
      const d = await api(`/api/estimate?${q}`);
      if (mine !== seq) return;
      hideError(errorBox);
      renderEstimate(d);
    } catch (err) {
      if (mine === seq) showError(errorBox, err);
    }
  }

  function onSlide() {
    label.textContent = `${num(steps[Number(slider.value)], 0)} tokens`;
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  }

  async function init() {
    try {
      const m = await api(`/api/models/${modelId.split("/").map(encodeURIComponent).join("/")}`);
      renderFacts(m);
      steps = contextSteps(m.context_length || 4096);
    } catch (err) {
      showError(errorBox, err);
      steps = contextSteps(4096);
    }
    slider.max = String(steps.length - 1);
    const start = steps.findIndex((s) => s >= 4096);
    slider.value = String(start < 0 ? steps.length - 1 : start);
    slider.disabled = false;
    slider.addEventListener("input", onSlide);
    label.textContent = `${num(steps[Number(slider.value)], 0)} tokens`;
    refresh();
  }

  init();
})();
