/* One run: status, verdict or candidates, per-example outputs (as text), events. */
"use strict";

(() => {
  const { api, el, clear, num, showError, renderVerdict, renderCandidates, eventLine, sleep } = LS;
  const root = document.getElementById("run");
  const runId = root.dataset.runId;
  const events = document.getElementById("events");
  let after = 0;

  function scoresText(scores) {
    return (scores || []).map((s) => `${s.metric} ${num(s.score, 2)}${s.passed ? " ✓" : " ✗"}` +
                                     (s.detail ? ` (${s.detail})` : "")).join("; ");
  }

  async function renderCalls() {
    const calls = await api(`/api/runs/${encodeURIComponent(runId)}/calls?limit=500`);
    const section = document.getElementById("examples");
    const tbody = clear(section.querySelector("tbody"));
    for (const c of calls) {
      const r = c.result || {};
      tbody.append(el("tr", { "data-example": c.example_id },
        el("td", {}, c.model), el("td", { class: "num" }, c.shots), el("td", {}, c.example_id),
        el("td", { class: "output" }, el("pre", {}, r.error ? `error: ${r.error}` : r.text)),
        el("td", {}, scoresText(c.scores)),
        el("td", {}, c.passed ? "pass" : "fail"),
        el("td", { class: "num" }, r.latency_s !== null && r.latency_s !== undefined ? `${num(r.latency_s, 2)} s` : (r.cached ? "cached" : "–"))));
    }
    section.hidden = calls.length === 0;
  }

  async function render() {
    const run = await api(`/api/runs/${encodeURIComponent(runId)}`);
    document.getElementById("run-status").textContent = run.status;
    const result = run.result || {};
    if (run.kind === "trial") {
      const task = result.task || run.config.task || {};
      document.getElementById("run-title").textContent = typeof task === "string" ? task : (task.name || "");
      if (run.result) renderVerdict(document.getElementById("verdict"), result);
      await renderCalls();
    } else if (run.kind === "recommend" && run.result) {
      document.getElementById("rec").hidden = false;
      renderCandidates(document.querySelector("#rec tbody"), result.candidates, (result.hardware || {}).name);
    }
    document.getElementById("report-link").hidden = !run.result;
    return run;
  }

  async function poll() {
    try {
      let run = await render();
      while (true) {
        const page = await api(`/api/runs/${encodeURIComponent(runId)}/events?after=${after}`);
        for (const e of page.events) events.append(eventLine(e));
        after = page.last_id;
        if (page.status !== "running") break;
        await sleep(1000);
        document.getElementById("run-status").textContent = page.status;
      }
      if (run.status === "running") run = await render();
    } catch (err) {
      showError(document.getElementById("run-error"), err);
    }
  }

  poll();
})();
