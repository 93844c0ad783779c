// FactoryEdge dashboard: line overview, machine view (waveform, spectrum, envelope spectrum with
// defect markers, trends, alarms), model view. Live data over Server-Sent Events (/api/events).
"use strict";

(() => {
  const view = document.getElementById("view");
  const liveEl = document.getElementById("live");
  const state = { me: null, source: null, overview: null, alarms: [], board: false, machine: null };

  const MARKER_COLORS = { BPFO: "#d6336c", BPFI: "#7048e8", BSF: "#2b8a3e", "2×BSF": "#5c940d", FTF: "#e8590c", shaft: "#868e96" };

  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  function num(v, digits) {
    return v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(digits);
  }

  async function api(path, init) {
    const r = await fetch(path, Object.assign({ credentials: "same-origin", headers: { "X-FactoryEdge-Request": "1" } }, init || {}));
    if (r.status === 401) { location.href = "/login"; throw new Error("login required"); }
    return r;
  }

  function connect(machine) {
    if (state.source) state.source.close();
    const url = "/api/events" + (machine ? "?machine=" + encodeURIComponent(machine) : "");
    const source = new EventSource(url);
    state.source = source;
    liveEl.textContent = "connecting…"; liveEl.className = "live";
    source.addEventListener("hello", () => { liveEl.textContent = "live"; liveEl.className = "live on"; });
    source.addEventListener("overview", (e) => { state.overview = JSON.parse(e.data); if (route().name === "overview") renderOverview(); });
    source.addEventListener("alarms", (e) => { const a = JSON.parse(e.data); state.alarms = a.alarms; state.board = a.board; renderAlarms(); });
    source.addEventListener("machine", (e) => onMachineLive(JSON.parse(e.data)));
    source.onerror = () => { liveEl.textContent = "reconnecting…"; liveEl.className = "live"; };
  }

  function route() {
    const h = location.hash || "#/";
    if (h.startsWith("#/machine/")) return { name: "machine", key: decodeURIComponent(h.slice("#/machine/".length)) };
    if (h.startsWith("#/models")) return { name: "models" };
    return { name: "overview" };
  }

  async function navigate() {
    const r = route();
    document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === r.name));
    state.machine = null;
    if (r.name === "machine") await showMachine(r.key);
    else if (r.name === "models") await showModels();
    else await showOverview();
  }

  // ---------- line overview ----------
  async function showOverview() {
    connect(null);
    view.innerHTML = '<h1>Line overview</h1><div id="machines" class="grid"></div><h2 class="mt">Alarms</h2><div id="alarm-list"></div>';
    const [o, a] = await Promise.all([api("/api/overview").then((r) => r.json()), api("/api/alarms").then((r) => r.json())]);
    state.overview = o; state.alarms = a.alarms; state.board = a.board;
    renderOverview(); renderAlarms();
  }

  function renderOverview() {
    const host = document.getElementById("machines");
    if (!host || !state.overview) return;
    host.innerHTML = state.overview.machines.map((m) => `
      <section class="card machine-card" data-machine="${esc(m.key)}" data-status="${esc(m.status)}">
        <h2><a href="#/machine/${encodeURIComponent(m.key)}">${esc(m.machine)}</a>
          <span class="badge ${esc(m.status)}">${esc(m.status)}</span> <span class="muted">${esc(m.site)}/${esc(m.line)}</span></h2>
        <table><thead><tr><th>channel</th><th>last sample</th><th>RMS</th><th>velocity mm/s</th><th>ISO</th><th>score / thr.</th><th>severity</th></tr></thead><tbody>
        ${m.channels.map((c) => `<tr data-channel="${esc(c.id)}">
          <td>${esc(c.sensor)}/${esc(c.axis)}</td>
          <td class="age">${c.lastSampleAgeSeconds === null ? "never" : num(c.lastSampleAgeSeconds, 1) + " s ago"}</td>
          <td>${num(c.rms, 3)} ${esc(c.unit)}</td>
          <td>${num(c.velocity, 2)}</td>
          <td><span class="zone ${esc(c.isoZone || "")}">${esc(c.isoZone || "–")}</span></td>
          <td>${c.warmingUp ? '<span class="muted">learning</span>' : num(c.score, 1) + " / " + num(c.threshold, 1)}</td>
          <td class="sev ${esc(c.severityName || "")}">${esc(c.severityName || (c.health ? c.health : "–"))}</td></tr>`).join("")}
        </tbody></table>
      </section>`).join("");
  }

  // ---------- alarms ----------
  function renderAlarms() {
    const host = document.getElementById("alarm-list");
    if (!host) return;
    let alarms = state.alarms || [];
    if (state.machine) alarms = alarms.filter((a) => a.machine === state.machine.key);
    const operator = state.me && state.me.role === "operator" && state.board;
    if (alarms.length === 0) { host.innerHTML = '<p class="muted" id="no-alarms">No alarms.</p>'; return; }
    host.innerHTML = `<table class="alarms"><thead><tr><th>raised</th><th>channel</th><th>state</th><th>severity</th><th>score</th><th>why</th><th>acknowledged</th><th></th></tr></thead><tbody>
      ${alarms.map((a) => `<tr class="alarm" data-alarm-id="${esc(a.id)}" data-acknowledged="${a.acknowledged}" data-severity="${esc(a.severity)}" data-state="${esc(a.state)}">
        <td>${esc(new Date(a.raisedAt).toLocaleTimeString([], { hour12: false }))}</td>
        <td>${esc(a.channel)}</td><td>${esc(a.state)}${a.shelvedUntil ? " (shelved)" : ""}</td>
        <td class="sev ${esc(a.severity)}">${esc(a.severity)}</td>
        <td>${num(a.score, 1)} / ${num(a.threshold, 1)}</td>
        <td class="expl">${esc(a.explanation || a.message)}</td>
        <td class="acked">${a.acknowledged ? esc(a.acknowledgedBy || "yes") : "no"}</td>
        <td>${operator && !a.acknowledged ? `<button class="ack" data-id="${esc(a.id)}">Acknowledge</button>` : ""}
            ${operator ? (a.shelvedUntil ? `<button class="shelve" data-unshelve="${esc(a.id)}">Unshelve</button>` : `<button class="shelve" data-shelve="${esc(a.id)}">Shelve 1 h</button>`) : ""}</td>
      </tr>`).join("")}</tbody></table>
      ${!state.board ? '<p class="muted">No alarm board in this gateway: alarms are shown, not acknowledged.</p>' : ""}
      <p class="error" id="alarm-error"></p>`;
    host.querySelectorAll("button.ack").forEach((b) => b.addEventListener("click", () => act(b.dataset.id, "ack", {})));
    host.querySelectorAll("button[data-shelve]").forEach((b) => b.addEventListener("click", () => act(b.dataset.shelve, "shelve", { minutes: 60 })));
    host.querySelectorAll("button[data-unshelve]").forEach((b) => b.addEventListener("click", () => act(b.dataset.unshelve, "unshelve", {})));
  }

  async function act(id, action, body) {
    const r = await api(`/api/alarms/${encodeURIComponent(id)}/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-FactoryEdge-Request": "1" },
      body: JSON.stringify(body),
    });
    const result = await r.json().catch(() => ({}));
    const err = document.getElementById("alarm-error");
    if (!r.ok && err) err.textContent = result.error || result.message || "refused";
    const a = await api("/api/alarms").then((x) => x.json());
    state.alarms = a.alarms; state.board = a.board; renderAlarms();
  }

  // ---------- machine view ----------
  async function showMachine(key) {
    const r = await api("/api/machine?key=" + encodeURIComponent(key));
    if (!r.ok) { view.innerHTML = `<p class="error">No machine ${esc(key)}.</p>`; return; }
    const m = await r.json();
    const a = await api("/api/alarms").then((x) => x.json());
    state.alarms = a.alarms; state.board = a.board;
    const channels = m.channels.map((c) => c.row.id);
    state.machine = { key, channel: channels[0], data: m, trends: {}, frames: {}, scale: "log", range: state.range || "1h", trendRequest: 0 };
    for (const c of m.channels) { state.machine.trends[c.row.id] = toPoints(c.trend); if (c.spectrum) state.machine.frames[c.row.id] = c.spectrum; }
    view.innerHTML = `
      <h1><a href="#/">Line</a> › <span id="machine-name">${esc(key.split("/").pop())}</span> <span id="machine-status" class="badge"></span>
        <select id="channel-pick" class="channel-pick">${channels.map((id) => `<option value="${esc(id)}">${esc(id.split("/").slice(3).join("/"))}</option>`).join("")}</select></h1>
      <div class="card kv" id="machine-kv"></div>
      <div class="charts">
        <section class="card"><div class="chart-head"><h2>Waveform</h2><span class="muted" id="wave-info"></span></div><div class="chart-box"><canvas id="waveform"></canvas></div></section>
        <section class="card"><div class="chart-head"><h2>Spectrum</h2><span class="toggle"><button id="scale-lin">lin</button><button id="scale-log" class="on">log</button></span></div><div class="chart-box"><canvas id="spectrum"></canvas></div></section>
        <section class="card wide"><div class="chart-head"><h2>Envelope spectrum</h2><span class="muted" id="envelope-info"></span></div><div class="chart-box"><canvas id="envelope"></canvas></div></section>
        <section class="card wide"><div class="chart-head"><h2>Trends</h2><span class="toggle" id="range-pick">${RANGES.map((r) => `<button data-range="${r.key}"${r.key === state.machine.range ? ' class="on"' : ""}>${r.label}</button>`).join("")}</span></div>
          <p class="muted" id="trend-note">loading history…</p></section>
        <section class="card"><div class="chart-head"><h2>RMS</h2></div><div class="chart-box short"><canvas id="trend-rms"></canvas></div></section>
        <section class="card"><div class="chart-head"><h2>Velocity RMS (mm/s, ISO 20816-3)</h2></div><div class="chart-box short"><canvas id="trend-velocity"></canvas></div></section>
        <section class="card wide"><div class="chart-head"><h2>Anomaly score</h2></div><div class="chart-box short"><canvas id="trend-score"></canvas></div></section>
      </div>
      <section class="card mt"><h2>Alarms</h2><div id="alarm-list"></div></section>`;
    const mk = (id, o) => new FeCharts.Chart(document.getElementById(id), o);
    state.machine.charts = {
      waveform: mk("waveform", { xLabel: "s", color: "#495057" }),
      spectrum: mk("spectrum", { xLabel: "Hz", yScale: "log", logFloor: 1e-6 }),
      envelope: mk("envelope", { xLabel: "Hz", color: "#1c7ed6" }),
      rms: mk("trend-rms", { xFormat: "time", color: "#1c7ed6" }),
      velocity: mk("trend-velocity", { xFormat: "time", color: "#2b8a3e" }),
      score: mk("trend-score", { xFormat: "time", color: "#5f3dc4" }),
    };
    document.getElementById("channel-pick").addEventListener("change", (e) => { state.machine.channel = e.target.value; drawMachine(true); loadTrend(); });
    document.querySelectorAll("#range-pick button").forEach((b) => b.addEventListener("click", () => setRange(b.dataset.range)));
    document.getElementById("scale-lin").addEventListener("click", () => setScale("lin"));
    document.getElementById("scale-log").addEventListener("click", () => setScale("log"));
    connect(key);
    drawMachine(true);
    renderAlarms();
    loadTrend();
  }

  // Trend ranges: the last hour is in the gateway's memory; longer ones come from its telemetry store.
  const RANGES = [{ key: "1h", label: "1 h", ms: 3600e3 }, { key: "24h", label: "24 h", ms: 86400e3 }, { key: "7d", label: "7 d", ms: 7 * 86400e3 }];
  const rangeMs = (key) => (RANGES.find((r) => r.key === key) || RANGES[0]).ms;

  function setRange(range) {
    state.range = state.machine.range = range;
    document.querySelectorAll("#range-pick button").forEach((b) => b.classList.toggle("on", b.dataset.range === range));
    loadTrend();
  }

  // Loads the selected channel's trend over the range (history from the store, then the memory ring);
  // live points keep arriving over /api/events and are appended.
  async function loadTrend() {
    const m = state.machine;
    if (!m) return;
    const id = m.channel, request = ++m.trendRequest;
    const note = document.getElementById("trend-note");
    if (note) note.textContent = "loading history…";
    const r = await api(`/api/trend?channel=${encodeURIComponent(id)}&since=${m.range}`);
    const body = await r.json().catch(() => ({}));
    if (state.machine !== m || m.trendRequest !== request) return;
    if (!r.ok) { if (note) note.textContent = "Trend history failed: " + (body.error || r.status); return; }
    const points = toPoints(body);
    const lastT = points.length ? points[points.length - 1].t : -Infinity;
    m.trends[id] = points.concat((m.trends[id] || []).filter((p) => p.t > lastT));
    m.bucketMs = body.bucketMs;
    const h = body.history || {};
    if (note) {
      note.className = h.available ? "muted" : "error";
      note.textContent = h.available
        ? `${h.points} points from the telemetry store (${h.windows} windows), ${body.livePoints} from memory; one point per ${num(body.bucketMs / 1000, 1)} s (maximum of each bucket).`
        : `History unavailable: ${h.error}. Trends are live only (the last hour kept in memory).`;
    }
    drawMachine(false);
  }

  function setScale(scale) {
    state.machine.scale = scale;
    document.getElementById("scale-lin").classList.toggle("on", scale === "lin");
    document.getElementById("scale-log").classList.toggle("on", scale === "log");
    state.machine.charts.spectrum.setYScale(scale);
  }

  function toPoints(t) {
    return t.t.map((time, i) => ({ t: time, rms: t.rms[i], velocity: t.velocity[i], score: t.score[i], threshold: t.threshold[i] }));
  }

  // A break in the lines where no window was recorded (gateway stopped, source down): a null point.
  function withGaps(points, gapMs) {
    const out = [];
    for (const p of points) {
      const last = out.length ? out[out.length - 1] : null;
      if (last && p.t - last.t > gapMs) out.push({ t: last.t + 1, rms: null, velocity: null, score: null, threshold: last.threshold });
      out.push(p);
    }
    return out;
  }

  function onMachineLive(live) {
    const m = state.machine;
    if (!m || live.key !== m.key) return;
    for (const c of live.channels) {
      const id = c.row.id;
      const row = m.data.channels.find((x) => x.row.id === id);
      if (row) row.row = c.row;
      const points = m.trends[id] || (m.trends[id] = []);
      for (const p of toPoints(c.trend)) {
        const last = points.length ? points[points.length - 1] : null;
        if (last && p.t === last.t) points[points.length - 1] = p;
        else if (!last || p.t > last.t) points.push(p);
      }
      const cutoff = Date.now() - rangeMs(m.range);
      let drop = 0;
      while (drop < points.length && points[drop].t < cutoff) drop++;
      drop = Math.max(drop, points.length - 20000);
      if (drop > 0) points.splice(0, drop);
      if (c.spectrum) m.frames[id] = c.spectrum;
    }
    drawMachine(live.channels.some((c) => c.spectrum && c.row.id === m.channel));
  }

  function drawMachine(spectra) {
    const m = state.machine;
    if (!m) return;
    const channel = m.data.channels.find((c) => c.row.id === m.channel);
    const row = channel.row;
    const status = (state.overview && state.overview.machines.find((x) => x.key === m.key)) || null;
    const badge = document.getElementById("machine-status");
    const sev = row.severityName || (status ? status.status : "normal");
    badge.className = "badge " + sev; badge.textContent = sev;
    document.getElementById("machine-kv").innerHTML = `
      <span>RMS <b>${num(row.rms, 3)} ${esc(row.unit)}</b></span>
      <span>velocity <b>${num(row.velocity, 2)} mm/s</b> <span class="zone ${esc(row.isoZone || "")}">${esc(row.isoZone || "–")}</span></span>
      <span>score <b id="score-now">${num(row.score, 2)}</b> / threshold <b>${num(row.threshold, 2)}</b></span>
      <span>last sample <b>${row.lastSampleAgeSeconds === null ? "never" : num(row.lastSampleAgeSeconds, 1) + " s ago"}</b></span>
      <span>bearing <b>${esc(channel.bearing || "unknown")}</b></span>
      <span>state <b>${esc(row.state || "–")}</b></span>`;

    const points = withGaps(m.trends[m.channel] || [], Math.max(10000, 3 * (m.bucketMs || 1000)));
    const t = points.map((p) => p.t);
    const tMin = t.length ? t[0] : 0, tMax = t.length ? Math.max(t[t.length - 1], tMin + 1000) : 1000;
    m.charts.rms.draw([{ x: t, y: points.map((p) => p.rms) }], { xMin: tMin, xMax: tMax, yMin: 0 });
    const zones = zoneLines();
    m.charts.velocity.draw([{ x: t, y: points.map((p) => p.velocity) }], { xMin: tMin, xMax: tMax, yMin: 0, hlines: zones });
    const thr = points.length ? points[points.length - 1].threshold : null;
    m.charts.score.draw([{ x: t, y: points.map((p) => p.score) }], { xMin: tMin, xMax: tMax, yMin: 0, hlines: [{ y: thr, color: "#e03131", name: "threshold" }] });

    if (!spectra) return;
    const f = m.frames[m.channel];
    if (!f) { document.getElementById("envelope-info").textContent = "waiting for the first frame…"; return; }
    const fs = f.sampleRateHz;
    m.charts.waveform.draw([{ x: null, x0: 0, dx: f.waveformStepSeconds, y: f.waveform }], { xMin: 0, xMax: f.waveform.length * f.waveformStepSeconds });
    document.getElementById("wave-info").textContent = `${(f.waveform.length * f.waveformStepSeconds * 1000).toFixed(0)} ms at ${fs} Hz, ${f.unit}`;
    const shaft = f.shaftHz || 0;
    const shaftMarkers = [];
    for (let h = 1; h <= 5; h++) if (shaft > 0) shaftMarkers.push({ name: h + "×", freq: h * shaft, color: MARKER_COLORS.shaft });
    const specMax = (f.spectrum.length - 1) * f.spectrumBinHz;
    m.charts.spectrum.draw([{ x: null, x0: 0, dx: f.spectrumBinHz, y: f.spectrum }], { xMin: 0, xMax: specMax, markers: shaftMarkers.slice(0, 3) });
    const d = f.defects;
    const defects = d ? [
      { name: "FTF", freq: d.ftf, color: MARKER_COLORS.FTF },
      { name: "BSF", freq: d.bsf, color: MARKER_COLORS.BSF },
      { name: "2×BSF", freq: 2 * d.bsf, color: MARKER_COLORS["2×BSF"] },
      { name: "BPFO", freq: d.bpfo, color: MARKER_COLORS.BPFO },
      { name: "BPFI", freq: d.bpfi, color: MARKER_COLORS.BPFI },
    ] : [];
    const envTop = (f.envelope.length - 1) * f.envelopeBinHz;
    const want = d ? Math.max(2.2 * d.bpfi, 6 * shaft) : 500;
    const envMax = Math.min(envTop, Math.max(want, 100));
    m.charts.envelope.draw([{ x: null, x0: 0, dx: f.envelopeBinHz, y: f.envelope }], { xMin: 0, xMax: envMax, yMin: 0, yFrom: 3, markers: shaftMarkers.concat(defects) });
    document.getElementById("envelope-info").textContent = (f.envelopeReady ? "" : "filling history… ") +
      `band ${Math.round(f.envelopeBand[0])}–${Math.round(f.envelopeBand[1])} Hz, shaft ${num(shaft, 2)} Hz` + (f.bearing ? `, ${f.bearing}` : ", no bearing configured");
  }

  function zoneLines() {
    // ISO 20816-3 group 2, rigid (the default class): A/B 1.4, B/C 2.8, C/D 4.5 mm/s.
    return [
      { y: 1.4, color: "#94d82d", name: "A/B", dash: [2, 3] },
      { y: 2.8, color: "#fab005", name: "B/C", dash: [2, 3] },
      { y: 4.5, color: "#e03131", name: "C/D", dash: [2, 3] },
    ];
  }

  // ---------- model view ----------
  async function showModels() {
    connect(null);
    const m = await api("/api/models").then((r) => r.json());
    const lines = m.lines.map((l) => `<tr data-line="${esc(l.line)}"><td>${esc(l.line)}</td><td>${esc(l.active || "none")}</td><td>${esc(l.version ?? "–")}</td>
      <td>${num(l.threshold, 3)}</td><td>${esc(l.channels)}</td><td>${esc(l.scoredWindows)}</td>
      <td>${l.shadow ? `${esc(l.shadow.model)}: would-be alert rate ${(100 * l.shadow.shadowAnomalousRate).toFixed(2)} % of windows (active ${(100 * l.shadow.activeAnomalousRate).toFixed(2)} %), ${esc(l.shadow.shadowAlerts)} alerts vs ${esc(l.shadow.activeAlerts)} over ${esc(l.shadow.windows)} windows` : "none"}</td></tr>`).join("");
    view.innerHTML = `<h1>Models</h1>
      <div class="card kv"><span>scorer <b id="scorer">${esc(m.scorer || "–")}</b></span><span>models folder <b>${esc(m.modelsDirectory || "not configured")}</b></span></div>
      <section class="card mt"><table><thead><tr><th>model line</th><th>active</th><th>version</th><th>threshold</th><th>channels</th><th>scored windows</th><th>shadow candidate</th></tr></thead>
      <tbody>${lines || '<tr><td colspan="7" class="muted">No ONNX model lines configured: every channel is scored by the statistical baseline (learned per channel, then frozen).</td></tr>'}</tbody></table></section>`;
  }

  async function start() {
    state.me = await api("/api/me").then((r) => r.json());
    document.getElementById("who").textContent = `${state.me.user} (${state.me.role})`;
    document.getElementById("who").dataset.role = state.me.role;
    document.getElementById("logout").hidden = state.me.method !== "session";
    window.addEventListener("hashchange", navigate);
    window.addEventListener("resize", () => { if (state.machine) drawMachine(true); });
    await navigate();
  }

  start().catch((e) => { view.innerHTML = `<p class="error">${esc(e.message)}</p>`; });
})();
