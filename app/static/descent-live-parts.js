/* Descent Lab's live view, part 1 of 3: what the other parts share (loaded first).
 *
 * The payload store the blob carriers fill (app/live/component.py), decoding of typed arrays, and one
 * family of runs decoded once. See descent-live.js for the whole view and its DOM contract.
 */
(() => {
  "use strict";
  if (window.DescentLiveParts) return;


  // Shared with the blob carriers (app/live/component.py), which may run before this file is loaded.
  const store = window.__descentLiveStore || (window.__descentLiveStore = { blobs: new Map() });
  Object.assign(store, { pathUpdates: 0, revision: 0, drawnAt: 0 });
  const BLOB_EVENT = "descent-live-blob";
  const TYPES = { f4: Float32Array, f8: Float64Array, i4: Int32Array, u2: Uint16Array, u1: Uint8Array };
  const FAST = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };
  const CONFIG = { displaylogo: false, responsive: false, doubleClick: "reset", showSendToCloud: false }; // no "Share chart..." upload button
  // A trace's data, as opposed to its look: what a redraw-less transition may move.
  const DATA_KEYS = ["x", "y", "x0", "dx", "customdata", "hovertemplate", "text", "meta", "ids", "name"];
  const OUTCOME_WORDS = ["converges", "diverges", "still moving"];
  const OUTCOME_TONES = ["good", "bad", "open"];

  function typed(spec) {
    if (!spec || !spec.bdata) return spec;
    const bytes = Uint8Array.from(atob(spec.bdata), (c) => c.charCodeAt(0));
    return new TYPES[spec.dtype](bytes.buffer);
  }

  /* A trace without its data: its look. */
  function look(trace) {
    const kept = {};
    for (const [key, value] of Object.entries(trace)) if (!DATA_KEYS.includes(key)) kept[key] = value;
    return kept;
  }

  function format(value, digits = 3) {
    if (!isFinite(value)) return String(value);
    const text = Number(value).toPrecision(digits);
    return String(Number(text));
  }

  /* One family (over a run's learning rate, or its momentum), decoded once. */
  class Family {
    constructor(payload) {
      this.param = payload.param;
      this.values = payload.values;
      this.size = payload.values.length;
      this.points = payload.points;
      this.xy = typed(payload.xy);
      this.last = typed(payload.last);
      this.outcome = typed(payload.outcome);
      this.event = typed(payload.event);
      this.final = typed(payload.final);
      this.metricSteps = typed(payload.metric_steps);
      this.metrics = {};
      for (const name of Object.keys(payload.metrics)) this.metrics[name] = typed(payload.metrics[name]);
      this.ranges = payload.ranges;
    }
    path(k) {
      const n = this.points, x = new Float32Array(n), y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        x[i] = this.xy[2 * (k * n + i)];
        y[i] = this.xy[2 * (k * n + i) + 1];
      }
      return { x, y };
    }
    series(name, k) {
      const m = this.metricSteps.length;
      return this.metrics[name].subarray(k * m, (k + 1) * m);
    }
    words(k) {
      const code = this.outcome[k], step = this.event[k], final = this.final[k];
      const ending = isFinite(final) ? ` · f = ${Number(final.toPrecision(3))}` : "";
      const text = code === 2 ? `still moving after ${step} steps` : `${OUTCOME_WORDS[code]} at step ${step}`;
      return { text: text + ending, tone: OUTCOME_TONES[code] };
    }
  }

  function element(tag, className, parent) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  window.DescentLiveParts = { store, BLOB_EVENT, FAST, CONFIG, DATA_KEYS, typed, look, format, Family, element };
})();
