// FactoryEdge charts: a few hundred lines of canvas code of our own (no library, no CDN).
// Each chart publishes its axis mapping on the canvas element (data-x-min, data-x-max, data-plot-left,
// data-plot-width, data-plot-top, data-plot-height, data-y-min, data-y-max, data-y-scale, in CSS
// pixels) so that tests, and anyone curious, can check that what is drawn is where the axis says.
// Marker lines are drawn on whole device pixels in their own colour, after the trace, and mirrored
// by positioned DOM elements (.marker, data-freq, data-x) that carry the labels.
"use strict";

const FeCharts = (() => {
  const PAD = { left: 58, right: 14, top: 12, bottom: 30 };
  const AXIS = "#52606d";
  const GRID = "#e9ecef";

  function niceStep(range, target) {
    const raw = range / Math.max(1, target);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
    return step * mag;
  }

  function fmt(v) {
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1000) return (v / 1000).toFixed(a >= 10000 ? 0 : 1) + "k";
    if (a >= 10) return v.toFixed(0);
    if (a >= 1) return v.toFixed(1);
    if (a >= 0.01) return v.toFixed(3);
    return v.toExponential(0);
  }

  function timeLabel(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  class Chart {
    // options: { xLabel, yLabel, color, xFormat: "number"|"time", yScale: "lin"|"log", logFloor }
    constructor(canvas, options) {
      this.canvas = canvas;
      this.options = Object.assign({ color: "#1c7ed6", xFormat: "number", yScale: "lin", logFloor: 1e-6 }, options || {});
      this.overlay = document.createElement("div");
      this.overlay.className = "markers";
      canvas.parentElement.appendChild(this.overlay);
      this.last = null;
    }

    setYScale(scale) {
      this.options.yScale = scale;
      if (this.last) this.draw(this.last.series, this.last.opts);
    }

    // series: [{ x: number[] | null, x0, dx, y: number[], color, width, dash }]
    // opts: { xMin, xMax, yMin, yFrom (x below which the y range ignores the data), markers: [{ name, freq, color }], hlines: [{ y, color, dash, name }] }
    draw(series, opts) {
      this.last = { series, opts };
      const canvas = this.canvas;
      const dpr = window.devicePixelRatio || 1;
      const cssW = canvas.clientWidth, cssH = canvas.clientHeight;
      if (cssW === 0 || cssH === 0) return;
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      const ctx = canvas.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);

      const plot = { left: PAD.left, top: PAD.top, width: cssW - PAD.left - PAD.right, height: cssH - PAD.top - PAD.bottom };
      const log = this.options.yScale === "log";
      const floor = this.options.logFloor;
      const ty = (v) => (log ? Math.log10(Math.max(v, floor)) : v);

      // Ranges.
      let xMin = opts.xMin, xMax = opts.xMax;
      let yMin = Infinity, yMax = -Infinity;
      for (const s of series) {
        const n = s.y.length;
        for (let i = 0; i < n; i++) {
          const x = s.x ? s.x[i] : s.x0 + i * s.dx;
          if (x < xMin || x > xMax || (opts.yFrom !== undefined && x < opts.yFrom)) continue;
          const v = s.y[i];
          if (v === null || !isFinite(v)) continue;
          const t = ty(v);
          if (t < yMin) yMin = t;
          if (t > yMax) yMax = t;
        }
      }
      for (const h of opts.hlines || []) {
        if (h.y !== null && isFinite(h.y)) { const t = ty(h.y); yMin = Math.min(yMin, t); yMax = Math.max(yMax, t); }
      }
      if (!isFinite(yMin)) { yMin = 0; yMax = 1; }
      if (opts.yMin !== undefined && !log) yMin = Math.min(yMin, opts.yMin);
      if (yMax - yMin < 1e-12) { yMax = yMin + (log ? 1 : Math.abs(yMin) * 0.1 + 1e-9); }
      const yPad = (yMax - yMin) * 0.05;
      yMax += yPad;
      if (!(opts.yMin === 0 && !log)) yMin -= yPad;
      if (!(xMax > xMin)) xMax = xMin + 1;

      const X = (x) => plot.left + ((x - xMin) / (xMax - xMin)) * plot.width;
      const Y = (t) => plot.top + (1 - (t - yMin) / (yMax - yMin)) * plot.height;

      // Publish the mapping (CSS pixels, relative to the canvas' top-left corner).
      const d = canvas.dataset;
      d.xMin = String(xMin); d.xMax = String(xMax);
      d.plotLeft = String(plot.left); d.plotWidth = String(plot.width);
      d.plotTop = String(plot.top); d.plotHeight = String(plot.height);
      d.yMin = String(yMin); d.yMax = String(yMax); d.yScale = log ? "log" : "lin";
      d.dpr = String(dpr);

      ctx.scale(dpr, dpr);
      ctx.font = "11px system-ui, 'Liberation Sans', sans-serif";

      // Grid and ticks (x).
      const ticks = [];
      if (this.options.xFormat === "time") {
        const stepMs = niceStep(xMax - xMin, 6);
        for (let t = Math.ceil(xMin / stepMs) * stepMs; t <= xMax; t += stepMs) ticks.push(t);
      } else {
        const step = niceStep(xMax - xMin, 8);
        for (let t = Math.ceil(xMin / step) * step; t <= xMax + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
      }
      ctx.strokeStyle = GRID; ctx.lineWidth = 1;
      for (const t of ticks) {
        const px = Math.round(X(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(px, plot.top); ctx.lineTo(px, plot.top + plot.height); ctx.stroke();
      }
      ctx.fillStyle = AXIS; ctx.textAlign = "center"; ctx.textBaseline = "top";
      d.xTicks = ticks.join(",");
      for (const t of ticks) {
        const px = Math.round(X(t)) + 0.5;
        ctx.strokeStyle = AXIS;
        ctx.beginPath(); ctx.moveTo(px, plot.top + plot.height); ctx.lineTo(px, plot.top + plot.height + 5); ctx.stroke();
        // Labels near the right edge are right-aligned so that they are not cut off.
        const nearEdge = X(t) > plot.left + plot.width - 24;
        ctx.textAlign = nearEdge ? "right" : "center";
        ctx.fillText(this.options.xFormat === "time" ? timeLabel(t) : fmt(t), nearEdge ? plot.left + plot.width + PAD.right - 2 : X(t), plot.top + plot.height + 7);
      }

      // y ticks.
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      const ystep = niceStep(yMax - yMin, 5);
      for (let t = Math.ceil(yMin / ystep) * ystep; t <= yMax; t += ystep) {
        const py = Math.round(Y(t)) + 0.5;
        ctx.strokeStyle = GRID;
        ctx.beginPath(); ctx.moveTo(plot.left, py); ctx.lineTo(plot.left + plot.width, py); ctx.stroke();
        ctx.fillStyle = AXIS;
        ctx.fillText(log ? "1e" + Math.round(t * 10) / 10 : fmt(t), plot.left - 6, py);
      }

      // Axes.
      ctx.strokeStyle = AXIS;
      ctx.beginPath();
      ctx.moveTo(plot.left + 0.5, plot.top); ctx.lineTo(plot.left + 0.5, plot.top + plot.height + 0.5);
      ctx.lineTo(plot.left + plot.width, plot.top + plot.height + 0.5);
      ctx.stroke();
      if (this.options.xLabel) { ctx.textAlign = "right"; ctx.textBaseline = "bottom"; ctx.fillText(this.options.xLabel, plot.left + plot.width, plot.top + plot.height - 2); }
      if (this.options.yLabel) { ctx.save(); ctx.translate(12, plot.top + plot.height / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillText(this.options.yLabel, 0, 0); ctx.restore(); }

      // Traces, clipped to the plot. Dense traces are reduced to min/max per pixel column.
      ctx.save();
      ctx.beginPath(); ctx.rect(plot.left, plot.top, plot.width, plot.height); ctx.clip();
      for (const s of series) {
        ctx.strokeStyle = s.color || this.options.color;
        ctx.lineWidth = s.width || 1.2;
        ctx.setLineDash(s.dash || []);
        ctx.beginPath();
        let started = false, col = null, lo = 0, hi = 0, first = 0, lastY = 0;
        const flush = () => {
          if (col === null) return;
          if (!started) { ctx.moveTo(col, first); started = true; } else ctx.lineTo(col, first);
          ctx.lineTo(col, lo); ctx.lineTo(col, hi); ctx.lineTo(col, lastY);
        };
        const n = s.y.length;
        for (let i = 0; i < n; i++) {
          const x = s.x ? s.x[i] : s.x0 + i * s.dx;
          if (x < xMin || x > xMax) continue;
          const v = s.y[i];
          if (v === null || !isFinite(v)) { flush(); col = null; started = false; continue; }
          const px = X(x), py = Y(ty(v));
          const c = Math.round(px);
          if (c !== col) { flush(); col = c; lo = hi = first = lastY = py; }
          else { lo = Math.min(lo, py); hi = Math.max(hi, py); lastY = py; }
        }
        flush();
        ctx.stroke();
      }
      ctx.setLineDash([]);
      for (const h of opts.hlines || []) {
        if (h.y === null || !isFinite(h.y)) continue;
        const py = Math.round(Y(ty(h.y))) + 0.5;
        ctx.strokeStyle = h.color; ctx.lineWidth = 1.5; ctx.setLineDash(h.dash || [6, 4]);
        ctx.beginPath(); ctx.moveTo(plot.left, py); ctx.lineTo(plot.left + plot.width, py); ctx.stroke();
        ctx.setLineDash([]);
        if (h.name) {
          const below = py - 14 < plot.top;
          ctx.fillStyle = h.color; ctx.textAlign = "left"; ctx.textBaseline = below ? "top" : "bottom";
          ctx.fillText(h.name, plot.left + 4, below ? py + 2 : py - 2);
        }
      }
      ctx.restore();

      // Markers: one device pixel wide, on a whole device pixel, drawn last.
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      this.overlay.replaceChildren();
      const top = Math.round(plot.top * dpr), bottom = Math.round((plot.top + plot.height) * dpr);
      const drawn = [];
      for (const m of opts.markers || []) {
        if (!(m.freq >= xMin && m.freq <= xMax)) continue;
        const xCss = X(m.freq);
        const col = Math.round(xCss * dpr);
        ctx.fillStyle = m.color;
        ctx.fillRect(col, top, 1, bottom - top);
        drawn.push({ name: m.name, freq: m.freq, x: xCss, column: col });
        const el = document.createElement("div");
        el.className = "marker";
        el.dataset.name = m.name; el.dataset.freq = String(m.freq); el.dataset.x = String(xCss); el.dataset.column = String(col); el.dataset.color = m.color;
        el.style.left = (col / dpr) + "px";
        el.style.width = (1 / dpr) + "px";
        el.style.top = plot.top + "px";
        el.style.height = plot.height + "px";
        const label = document.createElement("span");
        label.textContent = m.name;
        label.style.color = m.color;
        label.style.top = (2 + (drawn.length % 3) * 12) + "px";
        el.appendChild(label);
        this.overlay.appendChild(el);
      }
      d.markers = JSON.stringify(drawn);
      canvas.dispatchEvent(new CustomEvent("drawn"));
    }
  }

  return { Chart, fmt, timeLabel };
})();
