/* Home: hardware picker + task form -> /api/recommend -> ranked candidates. */
"use strict";

(() => {
  const { api, postJSON, el, clear, showError, hideError, renderCandidates, modelId } = LS;
  const form = document.getElementById("task-form");
  const status = document.getElementById("rec-status");
  const errorBox = document.getElementById("rec-error");
  const table = document.getElementById("candidates");
  let seq = 0;
  let timer = null;

  async function loadHardware() {
    try {
      const detected = await api("/api/hardware/detected");
      const hw = detected.hardware;
      document.getElementById("hw-detected").textContent =
        `${hw.name} (${LS.bytes(hw.memory_bytes)}, ${LS.num(hw.bandwidth_gbs)} GB/s, ${hw.device_kind})`;
    } catch (err) {
      document.getElementById("hw-detected").textContent = `not detected: ${err.message}`;
    }
    try {
      const list = clear(document.getElementById("hw-list"));
      for (const d of await api("/api/hardware")) list.append(el("option", { value: d.name }));
    } catch (_) { /* the picker still accepts typed names */ }
  }

  function hardwareChoice() {
    const mode = form.querySelector("input[name=hw_mode]:checked").value;
    const name = form.elements.hw_name.value.trim();
    return mode === "named" && name ? name : "auto";
  }

  function numberField(name) {
    const v = form.elements[name].value.trim();
    return v === "" ? undefined : Number(v);
  }

  function profile() {
    const tasks = [...form.querySelectorAll("input[name=tasks]:checked")].map((i) => i.value);
    const p = {
      tasks: tasks.length ? tasks : ["chat"],
      domain: form.elements.domain.value,
      privacy: form.elements.privacy.value,
      target: form.elements.target.value,
      offline: form.elements.offline.checked,
      interactive: form.elements.interactive.checked,
      commercial_use: form.elements.commercial_use.checked,
    };
    for (const name of ["input_tokens", "output_tokens", "context_tokens", "requests_per_day",
                        "budget_per_month"]) {
      const v = numberField(name);
      if (v !== undefined) p[name] = v;
    }
    return p;
  }

  function renderExtras(rec, hw) {
    const warn = clear(document.getElementById("contradictions"));
    for (const c of rec.contradictions || []) warn.append(el("li", {}, typeof c === "string" ? c : JSON.stringify(c)));
    const excluded = document.getElementById("excluded");
    const list = clear(excluded.querySelector("ul"));
    for (const x of (rec.excluded || []).slice(0, 50)) {
      list.append(el("li", {}, el("code", {}, modelId(x)), ": ",
                     (x.reasons || []).map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("; ")));
    }
    excluded.hidden = !(rec.excluded || []).length;
    const ladder = (rec.ladder || []).map((x) => (typeof x === "string" ? x : modelId(x)));
    document.getElementById("ladder-line").textContent =
      ladder.length ? `Start-small ladder for a trial: ${ladder.join(" → ")}` : "";
  }

  function request(save) {
    return { profile: profile(), hardware: hardwareChoice(), top: numberField("top") || 10, save };
  }

  async function save() {
    const saved = clear(document.getElementById("saved"));
    try {
      const rec = await postJSON("/api/recommend", request(true));
      saved.append("saved as ", el("a", { href: `/runs/${encodeURIComponent(rec.run_id)}` }, `run ${rec.run_id}`),
                   " · ", el("a", { href: `/runs/${encodeURIComponent(rec.run_id)}/report` }, "report"));
    } catch (err) {
      showError(errorBox, err);
    }
  }

  async function update() {
    const mine = ++seq;
    const hw = hardwareChoice();
    status.textContent = "ranking…";
    try {
      const rec = await postJSON("/api/recommend", request(false));
      if (mine !== seq) return; // a newer request is on its way
      hideError(errorBox);
      renderCandidates(table.querySelector("tbody"), rec.candidates, hw);
      table.hidden = false;
      renderExtras(rec, hw);
      const n = (rec.candidates || []).length;
      const on = (rec.hardware && rec.hardware.name) || hw;
      status.textContent = `${n} candidate${n === 1 ? "" : "s"} on ${on}`;
      document.getElementById("save-button").hidden = false;
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = "";
      showError(errorBox, err);
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); clearTimeout(timer); update(); });
  form.addEventListener("change", later);
  form.elements.hw_name.addEventListener("input", () => {
    form.querySelector("input[name=hw_mode][value=named]").checked = true;
  });
  document.getElementById("save-button").addEventListener("click", save);
  loadHardware();
})();
