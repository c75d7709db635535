/* llmscout web: helpers shared by the pages.
 * Data from the API is only ever written with textContent / text nodes (never parsed as HTML),
 * so a model output such as "<script>" is shown as text. */
"use strict";

const LS = (() => {
  async function api(path, options = {}) {
    const res = await fetch(path, { credentials: "same-origin", ...options });
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    if (!res.ok) {
      const info = (body && body.error) || {};
      const err = new Error(info.message || `${res.status} ${res.statusText}`);
      err.info = info;
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function postJSON(path, data) {
    return api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                       body: JSON.stringify(data) });
  }

  // el("td", {class: "num"}, "text", childNode, ...): children are text or nodes, never HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "href") node.setAttribute("href", safeHref(value));
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Only links into this app: no javascript:, data: or other sites from data.
  function safeHref(value) {
    const s = String(value);
    return s.startsWith("/") && !s.startsWith("//") ? s : "#";
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function modelHref(id, params) {
    const path = String(id).split("/").map(encodeURIComponent).join("/");
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
    const query = q.toString();
    return `/models/${path}` + (query ? `?${query}` : "");
  }

  function bytes(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return "–";
    const units = [[1024 ** 4, "TiB"], [1024 ** 3, "GiB"], [1024 ** 2, "MiB"], [1024, "KiB"]];
    for (const [div, unit] of units) if (Math.abs(n) >= div) return `${(n / div).toFixed(2)} ${unit}`;
    return `${Math.round(n)} B`;
  }

  function num(n, digits = 1) {
    if (n === null || n === undefined || Number.isNaN(Number(n))) return "–";
    return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits,
                                               minimumFractionDigits: 0 });
  }

  function money(n) {
    if (n === null || n === undefined) return "–";
    return n < 0.01 && n > 0 ? `$${Number(n).toPrecision(2)}` : `$${num(n, 2)}`;
  }

  function pct(x) { return x === null || x === undefined ? "–" : `${(100 * x).toFixed(0)}%`; }

  function showError(node, err) {
    clear(node);
    node.hidden = false;
    const info = (err && err.info) || {};
    const where = [info.path, info.line !== undefined && info.line !== null ? `line ${info.line}` : null,
                   info.field ? `field '${info.field}'` : null].filter(Boolean).join(", ");
    node.append(el("strong", {}, err.status ? `Error ${err.status}: ` : "Error: "),
                el("span", { class: "message" }, err.message || String(err)));
    if (where) node.append(el("div", { class: "where" }, where));
    if (info.suggestions && info.suggestions.length) {
      node.append(el("div", {}, "Did you mean: " + info.suggestions.join(", ")));
    }
  }

  function hideError(node) { clear(node); node.hidden = true; }

  // The memory bar: weights, KV cache, buffers and overhead against the usable memory.
  const PARTS = [["weights", "weights_bytes"], ["KV cache", "kv_cache_bytes"],
                 ["buffers", null], ["overhead", "overhead_bytes"]];

  function memoryParts(mem) {
    const known = (mem.weights_bytes || 0) + (mem.kv_cache_bytes || 0) + (mem.overhead_bytes || 0);
    const buffers = mem.total_bytes !== undefined ? Math.max(0, mem.total_bytes - known)
                                                  : (mem.compute_buffer_bytes || 0);
    return PARTS.map(([label, key]) => [label, key ? (mem[key] || 0) : buffers]);
  }

  function memoryBar(bar, legend, mem) {
    clear(bar);
    if (legend) clear(legend);
    const parts = memoryParts(mem);
    const total = parts.reduce((s, [, v]) => s + v, 0);
    const usable = mem.usable_bytes || 0;
    const scale = Math.max(total, usable) || 1;
    parts.forEach(([label, value], i) => {
      const seg = el("div", { class: `seg seg${i}`, title: `${label}: ${bytes(value)}` });
      seg.style.width = `${(100 * value / scale).toFixed(3)}%`;
      bar.append(seg);
      if (legend) legend.append(el("li", { class: `key key${i}` }, `${label} ${bytes(value)}`));
    });
    if (usable) {
      const mark = el("div", { class: "usable", title: `usable ${bytes(usable)}` });
      mark.style.left = `${(100 * usable / scale).toFixed(3)}%`;
      bar.append(mark);
      if (legend) legend.append(el("li", { class: "key usable-key" }, `usable ${bytes(usable)}`));
    }
    bar.classList.toggle("over", usable > 0 && total > usable);
    return { total, usable };
  }

  function modelId(c) {
    if (typeof c.model === "string") return c.model;
    return (c.model && (c.model.id || c.model.model)) || c.id || "?";
  }

  function reasonText(r) {
    return typeof r === "string" ? r : (r.text || r.reason || r.message || JSON.stringify(r));
  }

  // The first two reasons, the rest folded away.
  function reasonsCell(reasons) {
    const list = (Array.isArray(reasons) ? reasons : (reasons ? [reasons] : [])).map(reasonText);
    const cell = el("td", { class: "reasons" }, list.slice(0, 2).join("; "));
    if (list.length > 2) {
      cell.append(el("details", {}, el("summary", {}, `${list.length - 2} more`),
                     el("ul", {}, list.slice(2).map((r) => el("li", {}, r)))));
    }
    return cell;
  }

  function candidateRow(c, i, hw) {
    const e = c.estimate || {};
    const mem = e.memory || {};
    const speed = e.speed || {};
    const perMonth = c.cost_per_month !== undefined ? c.cost_per_month : (e.cost || {}).per_month;
    const id = modelId(c);
    const fit = mem.total_bytes !== undefined
      ? `${bytes(mem.total_bytes)} of ${bytes(mem.usable_bytes)}` : "–";
    return el("tr", { "data-model": id },
      el("td", { class: "num" }, c.rank || i + 1),
      el("td", {}, el("a", { href: modelHref(id, { hw, quant: c.quant || e.quant, engine: c.engine || e.engine }),
                             class: "model-link" }, id)),
      el("td", {}, [c.quant || e.quant || "–", " / ", c.engine || e.engine || "–"].join("")),
      el("td", { class: "num" }, num(c.score, 1)),
      el("td", {}, fit),
      el("td", { class: "num" }, num(speed.decode_tokens_per_s)),
      el("td", { class: "num" }, perMonth !== undefined && perMonth !== null ? money(perMonth) : "–"),
      reasonsCell(c.reasons));
  }

  function renderCandidates(tbody, candidates, hw) {
    clear(tbody);
    (candidates || []).forEach((c, i) => tbody.append(candidateRow(c, i, hw)));
  }

  function interval(iv) {
    return Array.isArray(iv) && iv.length === 2 ? `${pct(iv[0])}–${pct(iv[1])}` : "–";
  }

  // A trial's verdict and its ladder (result.verdict, result.ladder.rungs).
  function renderVerdict(section, result) {
    const verdict = result.verdict || {};
    section.hidden = false;
    section.querySelector("#verdict-message").textContent = verdict.message || "no verdict recorded";
    const advice = clear(section.querySelector("#verdict-advice"));
    const items = Array.isArray(verdict.advice) ? verdict.advice : (verdict.advice ? [verdict.advice] : []);
    items.forEach((a) => advice.append(el("li", {}, typeof a === "string" ? a : (a.text || a.message || JSON.stringify(a)))));
    const tbody = clear(section.querySelector("#ladder tbody"));
    const rungs = (result.ladder && result.ladder.rungs) || [];
    rungs.forEach((r) => tbody.append(el("tr", {},
      el("td", {}, r.model), el("td", { class: "num" }, r.shots), el("td", { class: "num" }, r.n),
      el("td", { class: "num" }, r.passes), el("td", { class: "num" }, pct(r.pass_rate)),
      el("td", {}, interval(r.interval)), el("td", {}, r.decision || ""))));
  }

  function eventLine(e) {
    const time = (e.at || "").replace("T", " ").slice(11, 19);
    return el("li", { "data-kind": e.kind }, el("span", { class: "muted" }, time + " "),
              el("strong", {}, e.kind), e.message ? ": " : "", e.message || "");
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  return { api, postJSON, el, clear, modelHref, bytes, num, money, pct, showError, hideError,
           memoryBar, renderCandidates, renderVerdict, eventLine, interval, modelId, sleep };
})();
