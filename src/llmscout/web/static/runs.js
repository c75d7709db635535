/* Runs list: everything in the store, newest first. */
"use strict";

(() => {
  const { api, el, clear, showError } = LS;

  async function load() {
    try {
      const runs = await api("/api/runs?limit=200");
      const tbody = clear(document.querySelector("#runs tbody"));
      document.getElementById("runs-empty").hidden = runs.length > 0;
      for (const r of runs) {
        tbody.append(el("tr", { "data-run": r.id },
          el("td", {}, el("a", { href: `/runs/${encodeURIComponent(r.id)}` }, el("code", {}, r.id))),
          el("td", {}, r.kind),
          el("td", { class: `status ${r.status}` }, r.status),
          el("td", {}, (r.created_at || "").replace("T", " ").slice(0, 19)),
          el("td", {}, r.title),
          el("td", {}, r.summary),
          el("td", {}, r.has_result ? el("a", { href: `/runs/${encodeURIComponent(r.id)}/report` }, "report") : "")));
      }
    } catch (err) {
      showError(document.getElementById("runs-error"), err);
    }
  }

  load();
})();
