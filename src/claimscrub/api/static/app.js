// claimscrub web page. A view over the JSON API: every fact shown comes from /v1/*,
// nothing is computed here beyond filtering and layout. Claim content is only ever set
// with textContent (never innerHTML), so a claim cannot inject markup.
"use strict";

const state = {
  apiKey: sessionStorage.getItem("claimscrub-api-key") || "",
  lastCheck: null, // {body, contentType, params}
  result: null, // parsed result JSON
  resultText: "", // the result JSON exactly as the API sent it
  filter: "all",
};

const $ = (selector) => document.querySelector(selector);
const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 };
const HCPCS_TOKEN = /\b([A-V][0-9]{4})\b/g;

// --- API ------------------------------------------------------------------------------
class ApiFailure extends Error {}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (state.apiKey) headers.set("X-API-Key", state.apiKey);
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (err) {
    throw new ApiFailure("The server cannot be reached. Is `claimscrub serve` running?");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const envelope = await response.json();
      if (envelope && envelope.error) message = envelope.error;
    } catch (err) { /* not JSON: keep the status line */ }
    if (response.status === 401) $("#key-box").hidden = false;
    throw new ApiFailure(message);
  }
  return response;
}

function showError(err) {
  const box = $("#alert");
  box.textContent = err instanceof ApiFailure ? err.message : `Unexpected problem: ${err}`;
  box.hidden = false;
  if (!(err instanceof ApiFailure)) console.error(err);
}

function clearError() {
  $("#alert").hidden = true;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// --- start-up ---------------------------------------------------------------------------
async function init() {
  setupTabs();
  setupCheckForm();
  setupCodeForm();
  const keyInput = $("#api-key");
  keyInput.value = state.apiKey;
  keyInput.addEventListener("change", () => {
    state.apiKey = keyInput.value.trim();
    sessionStorage.setItem("claimscrub-api-key", state.apiKey);
    loadPayers();
  });
  try {
    const health = await (await api("/healthz")).json();
    $("#version").textContent = `v${health.version} · ${health.rules} rules`;
    if (health.auth_required) $("#key-box").hidden = false;
  } catch (err) {
    showError(err);
  }
  loadPayers();
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  $("#code-on").value = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  const wanted = new URLSearchParams(location.hash.slice(1)).get("code");
  if (wanted) explainCode(wanted);
}

async function loadPayers() {
  try {
    const { payers } = await (await api("/v1/payers")).json();
    for (const select of [$("#payer"), $("#code-payer")]) {
      const keep = select.options[0];
      select.replaceChildren(keep);
      for (const pack of payers) {
        const option = el("option", null, `${pack.name} — ${pack.title}`);
        option.value = pack.name;
        select.append(option);
      }
    }
  } catch (err) {
    if (state.apiKey || !$("#key-box").hidden) return; // asked for the key already
    showError(err);
  }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll(".tab")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.id));
    // The tab pattern: arrow keys, Home and End move between tabs and select them.
    tab.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(tab);
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[
        event.key
      ];
      if (to === undefined) return;
      event.preventDefault();
      const next = tabs[(to + tabs.length) % tabs.length];
      selectTab(next.id);
      next.focus();
    });
  }
}

function selectTab(id) {
  for (const tab of document.querySelectorAll(".tab")) {
    const on = tab.id === id;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1; // one tab stop for the tab list
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
  }
}

// --- check claims -----------------------------------------------------------------------
function setupCheckForm() {
  const drop = $("#drop");
  const file = $("#file");
  file.addEventListener("change", () => {
    $("#file-name").textContent = file.files.length ? file.files[0].name : "";
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      file.files = event.dataTransfer.files;
      file.dispatchEvent(new Event("change"));
    }
  });
  $("#paste").addEventListener("input", () => {
    // Pasted text replaces a chosen file: the check reads one or the other.
    if ($("#paste").value.trim() && file.files.length) {
      file.value = "";
      $("#file-name").textContent = "";
    }
  });
  $("#check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    runCheck();
  });
  for (const chip of document.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => {
      state.filter = chip.dataset.filter;
      for (const other of document.querySelectorAll(".chip")) {
        other.setAttribute("aria-pressed", String(other === chip));
      }
      applyFilter();
    });
  }
  $("#search").addEventListener("input", applyFilter);
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => download(button.dataset.download));
  }
}

function checkParams(format) {
  const params = new URLSearchParams();
  const payer = $("#payer").value;
  const asOf = $("#as-of").value;
  const select = $("#select").value.trim();
  const ignore = $("#ignore").value.trim();
  if (payer) params.set("payer", payer);
  if (asOf) params.set("as_of", asOf);
  if (select) params.set("select", select);
  if (ignore) params.set("ignore", ignore);
  if (format) params.set("format", format);
  return params;
}

async function runCheck() {
  clearError();
  const file = $("#file").files[0];
  const pasted = $("#paste").value;
  let body;
  let source;
  if (file) {
    body = file;
    source = file.name;
  } else if (pasted.trim()) {
    body = pasted;
    source = "pasted";
  } else {
    showError(new ApiFailure("Choose a claims file or paste claims first."));
    return;
  }
  const params = checkParams();
  params.set("source", source);
  // The server sniffs the format from the first bytes, as the CLI does.
  const request = { body, contentType: "application/octet-stream", params };
  const button = $("#check-button");
  button.disabled = true;
  button.textContent = "Checking…";
  try {
    const response = await api(`/v1/check?${params}`, {
      method: "POST",
      headers: { "Content-Type": request.contentType },
      body,
    });
    state.resultText = await response.text();
    state.result = JSON.parse(state.resultText);
    state.lastCheck = request;
    renderResult(state.result);
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
    button.textContent = "Check claims";
  }
}

function stat(label, value, kind) {
  const card = el("div", `card stat ${kind || ""}`);
  card.append(el("div", "n", value), el("div", "label", label));
  return card;
}

function renderResult(result) {
  const s = result.summary;
  $("#summary").replaceChildren(
    stat("Claims", s.claims),
    stat("Lines", s.lines),
    stat("Claims with errors", s.error, "error"),
    stat("With warnings", s.warning, "warning"),
    stat("Clean", s.clean, "clean"),
    stat("Rejected inputs", s.rejected_input, s.rejected_input ? "rejected" : ""),
  );
  renderWorklist(result);
  const counts = { all: 0, error: 0, warning: 0, info: 0 };
  for (const claim of result.claims) {
    for (const finding of claim.findings) {
      counts.all += 1;
      counts[finding.severity] = (counts[finding.severity] || 0) + 1;
    }
  }
  for (const chip of document.querySelectorAll(".chip")) {
    chip.querySelector(".count").textContent = counts[chip.dataset.filter] ?? 0;
  }
  renderClean(result);
  renderRejected(result);
  const refdata = Object.entries(result.claimscrub.refdata || {})
    .map(([name, release]) => `${name} ${release}`)
    .join(" · ");
  $("#provenance").textContent =
    `claimscrub ${result.claimscrub.version} · rules ${result.claimscrub.rules_hash} · ` +
    `reference data: ${refdata || "none"} · generated ${result.claimscrub.generated}`;
  $("#results").hidden = false;
  applyFilter();
}

function where(finding) {
  const loc = finding.location || {};
  if (loc.x12) {
    const x = loc.x12;
    return `${x.segment || "?"} segment ${x.ordinal ?? "?"}${x.loop ? `, loop ${x.loop}` : ""}`;
  }
  if (loc.row !== null && loc.row !== undefined) return `CSV row ${loc.row}`;
  if (loc.json_path) return loc.json_path;
  return "";
}

function messageNode(text) {
  // HCPCS codes in a message open their explanation.
  const span = el("span", "message-text");
  let last = 0;
  for (const match of text.matchAll(HCPCS_TOKEN)) {
    span.append(document.createTextNode(text.slice(last, match.index)));
    const link = el("button", "code-link", match[1]);
    link.type = "button";
    link.title = `Explain ${match[1]}`;
    link.addEventListener("click", () => {
      selectTab("tab-code");
      explainCode(match[1]);
    });
    span.append(link);
    last = match.index + match[0].length;
  }
  span.append(document.createTextNode(text.slice(last)));
  return span;
}

function fixNode(finding) {
  const cell = el("td", "fix");
  if (!finding.fix_title && !finding.fix) return cell;
  if (finding.fix_title) cell.append(el("span", "fix-title", finding.fix_title));
  if (finding.fix) {
    const edits = Object.entries(finding.fix).map(([field, value]) => `${field} → ${value}`);
    cell.append(el("span", "fix-edits mono", edits.join(", ")));
  }
  if (finding.applicability) {
    cell.append(el("span", "applicability", `${finding.applicability} fix`));
  }
  return cell;
}

function renderWorklist(result) {
  const body = $("#worklist tbody");
  const rows = [];
  result.claims.forEach((claim, claimIndex) => {
    const findings = [...claim.findings].sort(
      (a, b) =>
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.line ?? 0) - (b.line ?? 0),
    );
    findings.forEach((finding) => {
      const tr = el("tr", finding.severity);
      tr.dataset.severity = finding.severity;
      tr.dataset.claim = String(claimIndex);
      const claimCell = el("td", "claim-id");
      const label = el("span", "claim-label", claim.id ?? "(no id)");
      if (finding.payer && finding.payer.name) {
        label.append(el("span", "claim-payer", finding.payer.name));
      }
      claimCell.append(label);
      const lineCell = el("td", "num", finding.line ?? "claim");
      const severityCell = el("td");
      severityCell.append(el("span", `badge ${finding.severity}`, finding.severity));
      const ruleCell = el("td", "rule");
      const ruleLink = el("button", "rule-link", finding.rule);
      ruleLink.type = "button";
      ruleLink.title = "Read this rule";
      ruleLink.addEventListener("click", () => showRule(finding.rule));
      ruleCell.append(ruleLink, el("span", "rule-name", finding.name));
      const messageCell = el("td", "message");
      messageCell.append(messageNode(finding.message));
      const answer = [finding.carc, ...(finding.rarc || [])].filter(Boolean).join(" + ");
      tr.append(
        claimCell,
        lineCell,
        severityCell,
        ruleCell,
        messageCell,
        fixNode(finding),
        el("td", "answer mono", answer),
        el("td", "where", where(finding)),
      );
      tr.dataset.text = [claim.id, finding.rule, finding.name, finding.message, answer]
        .join(" ")
        .toLowerCase();
      rows.push(tr);
    });
  });
  body.replaceChildren(...rows);
}

function renderClean(result) {
  // The claims the summary counts as clean: no error or warning (info findings allowed).
  const clean = result.claims.filter((c) => c.status === "clean").map((c) => c.id);
  const box = $("#clean");
  box.hidden = clean.length === 0;
  box.replaceChildren(
    el("h3", null, `${clean.length} clean claim(s): no errors or warnings`),
    el("span", "mono", clean.join(", ")),
  );
}

function inputList(items) {
  const list = el("ul");
  for (const item of items) {
    const at = [item.src, item.claim_id, item.seg_ordinal ? `segment ${item.seg_ordinal}` : null,
      item.row ? `row ${item.row}` : null, item.json_path].filter(Boolean).join(", ");
    list.append(el("li", null, `${at}: ${item.reason}`));
  }
  return list;
}

function renderRejected(result) {
  const box = $("#rejected");
  box.hidden = result.rejected.length === 0;
  box.replaceChildren(
    el("h3", null, `${result.rejected.length} input(s) could not be read`),
    inputList(result.rejected),
  );
  const warnings = result.input_warnings || [];
  const noticed = $("#input-warnings");
  noticed.hidden = warnings.length === 0;
  noticed.replaceChildren(
    el("h3", null, `${warnings.length} thing(s) noticed in the input but read anyway`),
    inputList(warnings),
  );
}

function applyFilter() {
  const needle = $("#search").value.trim().toLowerCase();
  let shown = 0;
  let lastClaim = null;
  for (const tr of document.querySelectorAll("#worklist tbody tr")) {
    const visible =
      (state.filter === "all" || tr.dataset.severity === state.filter) &&
      (!needle || tr.dataset.text.includes(needle));
    tr.hidden = !visible;
    if (!visible) continue;
    shown += 1;
    // The claim's id and payer head its first visible row; a rule separates claims.
    const first = tr.dataset.claim !== lastClaim;
    tr.classList.toggle("claim-start", first);
    tr.querySelector(".claim-label").hidden = !first;
    lastClaim = tr.dataset.claim;
  }
  const total = document.querySelectorAll("#worklist tbody tr").length;
  const empty = $("#no-findings");
  empty.hidden = shown > 0;
  // Say why the list is empty: a filter, no findings at all, or no claim read.
  const checked = state.result ? state.result.claims.length : 0;
  empty.textContent =
    total > 0
      ? "No findings match the filter."
      : checked > 0
        ? "No findings: every claim passed every selected rule."
        : "No claims were checked: the input was rejected (see below).";
}

async function download(format) {
  clearError();
  if (!state.lastCheck) return;
  const extension = { html: "html", json: "json", csv: "csv" }[format];
  let blob;
  try {
    if (format === "json") {
      blob = new Blob([state.resultText], { type: "application/json" });
    } else {
      // The report formats are rendered by the server from the same check.
      const params = new URLSearchParams(state.lastCheck.params);
      params.set("format", format);
      const response = await api(`/v1/check?${params}`, {
        method: "POST",
        headers: { "Content-Type": state.lastCheck.contentType },
        body: state.lastCheck.body,
      });
      blob = await response.blob();
    }
  } catch (err) {
    showError(err);
    return;
  }
  const link = el("a");
  link.href = URL.createObjectURL(blob);
  link.download = `claimscrub-report.${extension}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function showRule(code) {
  clearError();
  try {
    const rule = await (await api(`/v1/rules/${encodeURIComponent(code)}`)).json();
    $("#rule-title").textContent = `${rule.code} ${rule.name}`;
    const answer = [rule.carc, ...(rule.rarc || [])].filter(Boolean).join(" + ") || "n/a";
    $("#rule-meta").textContent =
      `Severity ${rule.severity} · confidence ${rule.confidence} · payer answer ${answer} · fix ${rule.fix} · ${rule.source}`;
    $("#rule-doc").replaceChildren(...docBlocks(rule.doc));
    $("#rule-dialog").showModal();
  } catch (err) {
    showError(err);
  }
}

function docBlocks(doc) {
  // The rule's documentation page: "## " headings, "- " lists, paragraphs (as text).
  const blocks = [];
  for (const chunk of doc.split(/\n\s*\n/)) {
    const lines = chunk.split("\n");
    let rest = lines;
    if (lines[0].startsWith("## ")) {
      blocks.push(el("h3", null, lines[0].slice(3)));
      rest = lines.slice(1);
    }
    if (!rest.length) continue;
    if (rest.every((line) => line.startsWith("- ") || line.startsWith("  "))) {
      const list = el("ul");
      for (const line of rest) {
        if (line.startsWith("- ")) list.append(el("li", null, line.slice(2)));
        else list.lastChild.textContent += ` ${line.trim()}`;
      }
      blocks.push(list);
    } else {
      blocks.push(el("p", null, rest.join(" ")));
    }
  }
  return blocks;
}

// --- code lookup --------------------------------------------------------------------------
function setupCodeForm() {
  $("#code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    explainCode($("#code").value);
  });
  const frame = $("#expl-frame");
  frame.addEventListener("load", () => {
    let doc;
    try {
      doc = frame.contentDocument;
    } catch (err) {
      return; // not same origin: keep the default height and links
    }
    if (!doc) return;
    // Fit the frame to its page so there is one scroll bar.
    const height = doc.documentElement.scrollHeight;
    if (height) frame.style.height = `${height + 16}px`;
    // Links to other codes open here, through the API (they would lack the API key).
    doc.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='/codes/']");
      if (!link) return;
      event.preventDefault();
      const url = new URL(link.getAttribute("href"), location.origin);
      const on = url.searchParams.get("on");
      if (on) $("#code-on").value = on;
      explainCode(decodeURIComponent(url.pathname.split("/").pop()));
      window.scrollTo({ top: 0 });
    });
  });
}

function codeParams() {
  const params = new URLSearchParams();
  const on = $("#code-on").value;
  const payer = $("#code-payer").value;
  if (on) params.set("on", on);
  if (payer) params.set("payer", payer);
  return params;
}

async function explainCode(raw) {
  clearError();
  const code = raw.trim().toUpperCase();
  if (!code) return;
  $("#code").value = code;
  history.replaceState(null, "", `#code=${encodeURIComponent(code)}`);
  const params = codeParams();
  const path = `/v1/codes/${encodeURIComponent(code)}`;
  try {
    const explanation = await (await api(`${path}?${params}`)).json();
    const htmlParams = new URLSearchParams(params);
    htmlParams.set("format", "html");
    const page = await (await api(`${path}?${htmlParams}`)).text();
    showExplanation(code, explanation, page, params);
  } catch (err) {
    $("#explanation").hidden = true;
    showError(err);
  }
}

function showExplanation(code, explanation, page, params) {
  $("#expl-title").textContent = explanation.code || code;
  $("#expl-descriptor").textContent = explanation.descriptor || "";
  const status = $("#expl-status");
  status.textContent = explanation.status ? explanation.status.replaceAll("_", " ") : "";
  status.className = `badge ${explanation.status === "valid" ? "clean" : "error"}`;
  status.hidden = !explanation.status;
  $("#expl-on").textContent = explanation.on ? `as of ${explanation.on}` : "";
  const link = $("#expl-link");
  link.href = `/codes/${encodeURIComponent(code)}?${params}`;
  link.hidden = Boolean(state.apiKey); // a plain link cannot carry the key
  const frame = $("#expl-frame");
  frame.srcdoc = page;
  $("#explanation").hidden = false;
}

init();
