// eventflow console: the executions list and one execution's page, in plain browser JavaScript.
// No framework, no build step. Every value from the service is put in the page as text (textContent), never
// as HTML, so a payload holding markup shows as the characters it is.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const ROW = 22; // px per timeline row (matches --row in console.css)
const PAYLOAD_PREVIEW = 1200; // characters of a payload shown before "Show all"
const WAIT = 25; // seconds a long poll may wait for a change

// -- small helpers ------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) append(node, child);
  return node;
}

function append(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(node, c));
  else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

// Replaces a node's children (arrays flattened, null and false left out, strings as text).
function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children) append(node, child);
  return node;
}

function status(value) {
  return el("span", { class: "status " + value }, value);
}

function when(ms) {
  if (ms === null || ms === undefined) return "";
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function duration(start, end) {
  if (start === null || start === undefined || end === null || end === undefined) return "";
  const s = (end - start) / 1000;
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function pretty(text) {
  if (text === null || text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch (e) {
    return String(text);
  }
}

// A payload as text: pretty JSON where it parses, the first PAYLOAD_PREVIEW characters with "Show all".
function payload(text) {
  const full = pretty(text);
  const pre = el("pre", { class: "payload" });
  if (full.length <= PAYLOAD_PREVIEW) {
    pre.textContent = full;
    return pre;
  }
  pre.textContent = full.slice(0, PAYLOAD_PREVIEW) + "…";
  const button = el("button", { class: "expand" }, `Show all (${full.length.toLocaleString()} characters)`);
  button.addEventListener("click", () => {
    const open = button.dataset.open === "1";
    pre.textContent = open ? full.slice(0, PAYLOAD_PREVIEW) + "…" : full;
    button.dataset.open = open ? "0" : "1";
    button.textContent = open ? `Show all (${full.length.toLocaleString()} characters)` : "Show less";
  });
  return el("div", {}, pre, button);
}

function errorBlock(error) {
  if (!error) return null;
  return el(
    "div",
    { class: "error" },
    el("strong", {}, (error.ErrorType || "Error") + ": "),
    error.ErrorMessage || "",
    error.ErrorData ? payload(error.ErrorData) : null,
    error.StackTrace && error.StackTrace.length ? el("pre", { class: "payload" }, error.StackTrace.join("\n")) : null,
  );
}

async function getJson(url, etag) {
  const headers = etag ? { "If-None-Match": etag } : {};
  const response = await fetch(url, { headers, cache: "no-store" });
  if (response.status === 304) return { unchanged: true, etag };
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return { body, etag: response.headers.get("ETag") };
}

// Long-polls ``url`` (which the server answers when its ETag moves, or with 304 after WAIT seconds) and
// calls ``onChange`` with each new body, until ``stop()`` returns true. On an error it backs off.
function follow(url, etag, onChange, stop) {
  const live = document.getElementById("live");
  let backoff = 1000;
  async function loop() {
    while (!stop()) {
      try {
        const sep = url.includes("?") ? "&" : "?";
        const got = await getJson(`${url}${sep}wait=${WAIT}`, etag);
        live.className = "live on";
        live.textContent = "live";
        backoff = 1000;
        if (!got.unchanged && !stop()) {
          etag = got.etag;
          onChange(got.body);
          await new Promise((r) => setTimeout(r, 250)); // at most a few renders a second
        }
      } catch (e) {
        live.className = "live";
        live.textContent = "reconnecting…";
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 15000);
      }
    }
    live.className = "live";
    live.textContent = "";
  }
  loop();
}

async function act(name, target, fields, messageBox) {
  messageBox.className = "message";
  messageBox.textContent = "…";
  try {
    const response = await fetch(`/console/api/actions/${name}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Eventflow-Csrf": CSRF },
      body: JSON.stringify({ target, fields }),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text).message || text;
      } catch (e) {}
      messageBox.className = "message bad";
      messageBox.textContent = `${name} refused (${response.status}): ${message}`;
      return false;
    }
    messageBox.className = "message ok";
    messageBox.textContent = `${name}: done`;
    return true;
  } catch (e) {
    messageBox.className = "message bad";
    messageBox.textContent = `${name} failed: ${e.message}`;
    return false;
  }
}

// -- the executions list -----------------------------------------------------------------------------

function listView() {
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  const state = {
    status: params.get("status") || "",
    fn: params.get("function") || "",
    markers: [], // markers of the pages before this one
    marker: params.get("marker") || null,
    generation: 0,
  };
  const statusSelect = el("select", { id: "filter-status" });
  const fnSelect = el("select", { id: "filter-function" });
  const table = el("tbody", { id: "executions" });
  const newer = el("button", { id: "newer" }, "← Newer");
  const older = el("button", { id: "older" }, "Older →");
  const count = el("span", { class: "muted" });
  fill(app,
    el("h1", {}, "Executions"),
    el("div", { class: "filters" }, el("label", {}, "Status ", statusSelect), el("label", {}, "Function ", fnSelect)),
    el(
      "table",
      { class: "list" },
      el("thead", {}, el("tr", {}, ["Status", "Function", "Name", "Started", "Ended", "Duration"].map((h) => el("th", {}, h)))),
      table,
    ),
    el("div", { class: "pager" }, newer, older, count),
  );

  function url() {
    const q = new URLSearchParams();
    if (state.status) q.set("status", state.status);
    if (state.fn) q.set("function", state.fn);
    if (state.marker) q.set("marker", state.marker);
    return q;
  }

  function options(select, values, current, all) {
    const wanted = [""].concat(values);
    if (select.options.length === wanted.length && [...select.options].every((o, i) => o.value === wanted[i])) return;
    fill(select, ...wanted.map((v) => el("option", { value: v, selected: v === current }, v || all)));
  }

  function render(body) {
    options(statusSelect, body.statuses, state.status, "any status");
    options(fnSelect, body.functions, state.fn, "any function");
    fill(table,
      ...body.executions.map((row) =>
        el(
          "tr",
          { "data-arn": row.arn, "data-status": row.status },
          el("td", {}, status(row.status)),
          el("td", {}, row.function),
          el("td", { class: "name" }, el("a", { href: "/console/executions/" + encodeURIComponent(row.arn) }, row.name)),
          el("td", {}, when(row.start)),
          el("td", {}, when(row.end)),
          el("td", {}, duration(row.start, row.end === null ? body.now : row.end)),
        ),
      ),
    );
    if (!body.executions.length) table.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No executions yet.")));
    newer.disabled = state.markers.length === 0 && !state.marker;
    older.disabled = !body.next;
    older.onclick = () => {
      state.markers.push(state.marker);
      state.marker = body.next;
      restart();
    };
    count.textContent = `${body.executions.length} shown`;
  }
  newer.onclick = () => {
    state.marker = state.markers.length ? state.markers.pop() : null;
    restart();
  };
  statusSelect.onchange = () => {
    state.status = statusSelect.value;
    state.marker = null;
    state.markers = [];
    restart();
  };
  fnSelect.onchange = () => {
    state.fn = fnSelect.value;
    state.marker = null;
    state.markers = [];
    restart();
  };

  async function restart() {
    const generation = ++state.generation;
    const q = url();
    history.replaceState(null, "", q.toString() ? `/?${q}` : "/");
    const api = `/console/api/executions?${q}`;
    try {
      const got = await getJson(api);
      if (generation !== state.generation) return;
      render(got.body);
      follow(api, got.etag, render, () => generation !== state.generation);
    } catch (e) {
      app.append(el("p", { class: "message bad" }, e.message));
    }
  }
  restart();
}

// -- one execution -----------------------------------------------------------------------------------

function executionView(arn) {
  const app = document.getElementById("app");
  const api = `/console/api/executions/${encodeURIComponent(arn)}`;
  const view = { detail: null, collapsed: new Set(), selected: null, visible: [], firstRender: true };
  const header = el("div", { class: "card" });
  const message = el("div", { class: "message", id: "action-message" });
  const execActions = el("div", { class: "actions", id: "execution-actions" });
  const axis = el("div", { class: "axis" });
  const spacer = el("div", { class: "spacer" });
  const timeline = el("div", { class: "timeline", id: "timeline" }, spacer);
  timeline.style.height = "420px"; // the final height is set once the rows are known
  const panel = el("div", { class: "card", id: "operation" }, el("p", { class: "muted" }, "Select an operation in the timeline to see its events."));
  fill(app,
    el("p", {}, el("a", { href: "/" }, "← Executions")),
    header,
    execActions,
    message,
    el("h2", {}, "Timeline"),
    axis,
    timeline,
    el("h2", {}, "Operation"),
    panel,
  );
  timeline.addEventListener("scroll", () => requestAnimationFrame(drawRows));

  function renderHeader(d) {
    const fields = [
      ["Status", status(d.status)],
      ["Function", d.function],
      ["ARN", el("span", { class: "mono" }, d.arn)],
      ["Started", when(d.start)],
      ["Ended", when(d.end)],
      ["Duration", duration(d.start, d.end === null ? d.now : d.end)],
      ["Invocations", String(d.invocations.length)],
    ];
    fill(header,
      el("h1", { id: "execution-name" }, d.name),
      el("dl", { class: "summary" }, fields.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
      el("h2", {}, "Input"),
      payload(d.input),
      d.result !== null ? [el("h2", {}, "Result"), el("div", { id: "execution-result" }, payload(d.result))] : null,
      d.error ? [el("h2", {}, "Error"), errorBlock(d.error)] : null,
      el(
        "p",
        {},
        el("a", { href: `${api}/history.json`, download: "", id: "download" }, "Download the history (JSON)"),
      ),
    );
    fill(execActions,
      ...d.actions.map((a) => {
        const button = el("button", { class: a.name === "stop" ? "danger" : "", "data-action": a.name }, a.label);
        button.onclick = async () => {
          const fields = {};
          if (a.body === "reason") {
            const reason = prompt(`${a.label}: a reason (optional)`);
            if (reason === null) return;
            fields.reason = reason;
          } else if (a.body === "error") {
            if (!confirm(`${a.label} this execution?`)) return;
            fields.errorType = "StoppedFromConsole";
            fields.errorMessage = "stopped from the eventflow console";
          }
          await act(a.name, d.arn, fields, message);
        };
        return button;
      }),
    );
  }

  // The rows that are shown: those with no collapsed ancestor.
  function computeVisible() {
    const ops = view.detail.operations;
    const hidden = new Uint8Array(ops.length);
    const visible = [];
    for (let i = 0; i < ops.length; i++) {
      const p = ops[i].parent;
      if (p >= 0 && (hidden[p] || view.collapsed.has(ops[p].id))) hidden[i] = 1;
      else visible.push(i);
    }
    view.visible = visible;
    view.hasChildren = new Uint8Array(ops.length);
    for (const op of ops) if (op.parent >= 0) view.hasChildren[op.parent] = 1;
  }

  function span() {
    const d = view.detail;
    const origin = d.start;
    let horizon = (d.end === null ? d.now : d.end) - origin;
    for (const op of d.operations) if (op.end !== null) horizon = Math.max(horizon, op.end - origin);
    return { origin, horizon: Math.max(horizon, 1) };
  }

  function placeBar(node, start, end, s) {
    node.style.left = `${Math.max(0, ((start - s.origin) / s.horizon) * 100)}%`;
    node.style.width = `${Math.max(0.15, ((end - start) / s.horizon) * 100)}%`;
  }

  // Draws only the rows inside the scrolled window (plus a margin): the cost of a frame does not depend
  // on how many operations the execution has.
  function drawRows() {
    const d = view.detail;
    if (!d) return;
    const s = span();
    const lanes = 1; // the invocations lane
    const total = view.visible.length + lanes;
    spacer.style.height = `${total * ROW}px`;
    timeline.style.height = `${Math.min(420, total * ROW + 2)}px`;
    const first = Math.max(0, Math.floor(timeline.scrollTop / ROW) - 10);
    const last = Math.min(total, Math.ceil((timeline.scrollTop + timeline.clientHeight) / ROW) + 10);
    const rows = [];
    for (let r = first; r < last; r++) {
      if (r === 0) {
        const lane = el("div", { class: "trow lane", style: null }, el("div", { class: "tlabel" }, el("strong", {}, "invocations")));
        const track = el("div", { class: "tbar" });
        for (const inv of d.invocations) {
          const b = el("div", { class: "bar invocation" + (inv.error ? " err" : ""), title: `${inv.request || "invocation"} ${duration(inv.start, inv.end)}` });
          placeBar(b, inv.start, inv.end === null ? d.now : inv.end, s);
          track.append(b);
        }
        lane.append(track);
        lane.style.top = "0px";
        rows.push(lane);
        continue;
      }
      const i = view.visible[r - lanes];
      const op = d.operations[i];
      const toggle = el("span", { class: "toggle" }, view.hasChildren[i] ? (view.collapsed.has(op.id) ? "▸" : "▾") : "");
      toggle.addEventListener("click", (event) => {
        event.stopPropagation();
        if (view.collapsed.has(op.id)) view.collapsed.delete(op.id);
        else view.collapsed.add(op.id);
        computeVisible();
        drawRows();
      });
      const label = el(
        "div",
        { class: "tlabel", title: op.id },
        toggle,
        el("span", { class: "oplabel" }, op.label),
        op.kind !== op.label ? el("span", { class: "kind" }, op.kind) : null,
        op.name !== null ? el("span", { class: "opname" }, `"${op.name}"`) : null,
        " ",
        status(op.status),
        op.attempt > 1 ? el("span", { class: "muted" }, ` ×${op.attempt}`) : null,
      );
      label.style.paddingLeft = `${op.depth * 14}px`;
      const track = el("div", { class: "tbar" });
      if (op.start !== null) {
        const b = el("div", { class: "bar " + op.status, title: `${op.label} ${duration(op.start, op.end === null ? d.now : op.end)}` });
        placeBar(b, op.start, op.end === null ? d.now : op.end, s);
        track.append(b);
      }
      const row = el("div", { class: "trow" + (view.selected === op.id ? " selected" : ""), "data-op": op.id, "data-label": op.label }, label, track);
      row.style.top = `${r * ROW}px`;
      row.addEventListener("click", () => select(op.id));
      rows.push(row);
    }
    fill(spacer, ...rows);
    fill(axis, el("span", {}, "+0 s"), el("span", {}, `+${(s.horizon / 2000).toFixed(2)} s`), el("span", {}, `+${(s.horizon / 1000).toFixed(2)} s`));
  }

  async function select(opId) {
    view.selected = opId;
    const chosen = view.detail.operations.find((o) => o.id === opId);
    view.selectedState = `${chosen && chosen.status}-${chosen && chosen.end}`;
    drawRows();
    const op = view.detail.operations.find((o) => o.id === opId);
    fill(panel, el("p", { class: "muted" }, "Loading events…"));
    let body;
    try {
      body = (await getJson(`${api}/events?op=${encodeURIComponent(opId)}`)).body;
    } catch (e) {
      fill(panel, el("p", { class: "message bad" }, e.message));
      return;
    }
    if (view.selected !== opId) return;
    renderPanel(op, body);
  }

  function renderPanel(op, body) {
    const d = view.detail;
    const parts = [
      el("h2", {}, `${op.label} ${op.kind}`, op.name !== null ? ` "${op.name}"` : "", " ", status(op.status)),
      el(
        "dl",
        { class: "summary" },
        el("dt", {}, "Id"),
        el("dd", { class: "mono" }, op.id),
        el("dt", {}, "Started"),
        el("dd", {}, when(op.start)),
        el("dt", {}, "Ended"),
        el("dd", {}, when(op.end)),
        el("dt", {}, "Duration"),
        el("dd", {}, duration(op.start, op.end === null ? d.now : op.end)),
        op.attempt ? [el("dt", {}, "Attempts"), el("dd", {}, String(op.attempt))] : null,
      ),
    ];
    if (op.callback && op.status === "STARTED" && d.callbackActions.length) parts.push(callbackForm(op));
    parts.push(el("h2", {}, `Events (${body.events.length})`));
    const list = el("div", { id: "events" });
    for (const event of body.events) list.append(eventBlock(event, d.start));
    parts.push(list);
    parts.push(
      el(
        "div",
        { class: "machine" },
        el("h2", {}, `The ${body.type} state machine`),
        el("img", { src: `/console/machines/${body.type}.svg`, alt: `${body.type} state machine` }),
        el("details", {}, el("summary", {}, "Mermaid source"), el("pre", { class: "payload" }, d.machines[body.type] || "")),
      ),
    );
    fill(panel, ...parts);
  }

  function eventBlock(event, origin) {
    const details = event.details || {};
    const items = [];
    for (const [key, value] of Object.entries(details)) {
      if (value && typeof value === "object" && !Array.isArray(value) && ("Payload" in value || "Truncated" in value)) {
        if (key === "Error") items.push(el("div", {}, el("span", { class: "muted" }, key), errorBlock(value.Payload)));
        else items.push(el("div", {}, el("span", { class: "muted" }, key + (value.Truncated ? " (truncated)" : "")), payload(value.Payload)));
      } else if (key === "RetryDetails" && value) {
        const bits = [];
        if (value.CurrentAttempt !== undefined) bits.push(`attempt ${value.CurrentAttempt}`);
        if (value.NextAttemptDelaySeconds !== undefined) bits.push(`next attempt in ${value.NextAttemptDelaySeconds} s`);
        items.push(el("div", {}, el("span", { class: "muted" }, "retry "), bits.join(", ")));
      } else if (key.endsWith("Timestamp")) {
        items.push(el("div", {}, el("span", { class: "muted" }, key + " "), when(value)));
      } else {
        items.push(el("div", {}, el("span", { class: "muted" }, key + " "), typeof value === "object" ? JSON.stringify(value) : String(value)));
      }
    }
    const offset = event.at === null ? "" : `+${((event.at - origin) / 1000).toFixed(3)} s`;
    return el("div", { class: "event", "data-type": event.type }, el("div", { class: "head" }, `#${event.id} ${event.type} `, el("span", { class: "muted" }, offset)), items);
  }

  function callbackForm(op) {
    const d = view.detail;
    const box = el("div", { class: "message" });
    const result = el("textarea", { id: "callback-result", placeholder: '{"approved": true}' });
    const errorType = el("input", { id: "callback-error-type", placeholder: "error type", value: "Rejected" });
    const errorMessage = el("input", { id: "callback-error-message", placeholder: "error message" });
    const buttons = d.callbackActions.map((a) => {
      const button = el("button", { class: a.name === "callback-succeed" ? "primary" : "", "data-action": a.name }, a.label);
      button.onclick = async () => {
        const fields = a.body === "result" ? { result: result.value } : a.body === "error" ? { errorType: errorType.value, errorMessage: errorMessage.value } : {};
        if (a.body === "result" && result.value.trim()) {
          try {
            JSON.parse(result.value);
          } catch (e) {
            box.className = "message bad";
            box.textContent = `The result must be JSON: ${e.message}`;
            return;
          }
        }
        button.disabled = true;
        await act(a.name, op.callback, fields, box);
        button.disabled = false;
      };
      return button;
    });
    return el(
      "div",
      { class: "card", id: "callback-form" },
      el("strong", {}, "Answer the callback "),
      el("span", { class: "mono muted" }, op.callback),
      el(
        "div",
        { class: "form" },
        el("label", {}, "Result (JSON)", result),
        el("div", { class: "actions" }, errorType, errorMessage),
        el("div", { class: "actions" }, buttons),
      ),
      box,
    );
  }

  function render(d) {
    view.detail = d;
    document.title = `${d.name} · eventflow`;
    renderHeader(d);
    computeVisible();
    drawRows();
    if (view.firstRender) {
      view.firstRender = false;
      // The time from navigation to the first drawn timeline (the browser tests read it).
      timeline.dataset.renderedMs = String(Math.round(performance.now()));
      timeline.dataset.rows = String(d.operations.length);
    }
    timeline.dataset.status = d.status;
    if (view.selected) {  // refresh the panel only when its operation changed (keeps a half-typed answer)
      const op = d.operations.find((o) => o.id === view.selected);
      const seen = `${op && op.status}-${op && op.end}`;
      if (op && seen !== view.selectedState) select(op.id);
    }
  }

  (async () => {
    try {
      const got = await getJson(api);
      render(got.body);
      follow(api, got.etag, render, () => !view.detail.running && !["PAUSED", "PAUSING"].includes(view.detail.status));
    } catch (e) {
      fill(app, el("p", {}, el("a", { href: "/" }, "← Executions")), el("p", { class: "message bad" }, e.message));
    }
  })();
}

// -- routing -----------------------------------------------------------------------------------------

const prefix = "/console/executions/";
if (location.pathname.startsWith(prefix)) executionView(decodeURIComponent(location.pathname.slice(prefix.length)));
else listView();
