/* Trial page: upload examples or pick the sample task, start, follow the events, show the verdict. */
"use strict";

(() => {
  const { api, el, clear, showError, hideError, renderVerdict, eventLine, sleep } = LS;
  const form = document.getElementById("trial-form");
  const errorBox = document.getElementById("trial-error");
  const progress = document.getElementById("progress");
  const statusLine = document.getElementById("progress-status");
  const events = document.getElementById("events");
  const button = document.getElementById("start-button");
  const maxBytes = Number(form.dataset.maxUploadMb) * 1024 * 1024;

  async function loadInfo() {
    try {
      const s = await api("/api/trial/sample");
      document.getElementById("sample-desc").textContent =
        `${s.name}: ${s.description} (${s.examples_count} examples, metric ${(s.metrics || []).map((m) => m.name).join(", ")})`;
    } catch (err) {
      document.getElementById("sample-desc").textContent = `not available: ${err.message}`;
    }
    try {
      const list = await api("/api/endpoints");
      const box = clear(document.getElementById("endpoints"));
      list.forEach((e, i) => {
        if (i) box.append(", ");
        const key = e.api_key_env ? ` (key ${e.api_key_env}: ${e.api_key_set ? "set" : "not set"})` : "";
        box.append(el("code", {}, e.name), key);
      });
    } catch (_) { document.getElementById("endpoints").textContent = "none"; }
  }

  async function follow(jobId) {
    let job = await api(`/api/jobs/${jobId}`);
    let after = 0;
    while (true) {
      if (job.run_id) {
        const page = await api(`/api/runs/${job.run_id}/events?after=${after}`);
        for (const e of page.events) events.append(eventLine(e));
        after = page.last_id;
        const last = page.events[page.events.length - 1];
        statusLine.textContent = `run ${job.run_id}: ${page.status}` + (last ? ` — ${last.kind}: ${last.message}` : "");
      } else {
        statusLine.textContent = "starting…";
      }
      if (job.status !== "running") break;
      await sleep(600);
      job = await api(`/api/jobs/${jobId}`);
    }
    return job;
  }

  async function finish(job) {
    if (job.status === "failed") {
      showError(errorBox, Object.assign(new Error(job.error ? job.error.message : "the trial failed"),
                                        { info: job.error || {} }));
      statusLine.textContent = "failed";
    }
    if (!job.run_id) return;
    const run = await api(`/api/runs/${job.run_id}`);
    statusLine.textContent = `run ${run.id}: ${run.status}`;
    if (run.result) {
      const section = document.getElementById("verdict");
      renderVerdict(section, run.result);
      document.getElementById("report-link").setAttribute("href", `/runs/${run.id}/report`);
      document.getElementById("run-link").setAttribute("href", `/runs/${run.id}`);
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    hideError(errorBox);
    const data = new FormData(form);
    const file = form.elements.file.files[0];
    if (data.get("source") === "upload" && file && file.size > maxBytes) {
      showError(errorBox, Object.assign(new Error(`${file.name} is larger than ${form.dataset.maxUploadMb} MB`), { info: { field: "file" } }));
      return;
    }
    if (data.get("source") !== "upload") data.delete("file");
    button.disabled = true;
    clear(events);
    document.getElementById("verdict").hidden = true;
    try {
      const started = await api("/api/trials", { method: "POST", body: data });
      progress.hidden = false;
      statusLine.textContent = "started";
      await finish(await follow(started.job.id));
    } catch (err) {
      showError(errorBox, err);
    } finally {
      button.disabled = false;
    }
  });

  form.elements.file.addEventListener("change", () => {
    form.querySelector("input[name=source][value=upload]").checked = true;
  });
  loadInfo();
})();
