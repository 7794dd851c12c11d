/* Descent Lab's live view, part 2 of 3: the scrubs (loaded after part 1).
 *
 * One slider per run over its family of rates, and one over its family of β for a rule with a
 * momentum. While one is dragged, the run's path, marker and
 * curves are drawn on transparent figures laid over the plane and over the curves (same size,
 * margins, subplots and axis ranges; clicks pass through) and its committed ones are dimmed:
 * moving a few traces there costs a few ms, where redrawing the whole plane or all the curves
 * costs a full layout. Release commits the member's rate to Python.
 */
(() => {
  "use strict";
  const { store, FAST, look, element, format } = window.DescentLiveParts;
  const RATE = "lr"; // a scrub's param: the learning rate, else a momentum ("beta", "b1")
  const OVERLAY_CONFIG = { staticPlot: true, displayModeBar: false };
  const COMMIT_WAIT_MS = 8000; // a commit that draws nothing (refused) gives the plane back
  const CURVES_EVERY_MS = 40; // the curves follow at most 25 times a second: the path gets the rest
  const DIMMED = 0.25; // the committed path and curves while another rate is dragged
  const AXIS = /^[xy]axis\d*$/;

  /* A scrub's value as its row shows it: a rate to 3 digits, a momentum to 4 (0.9989). */
  const shown = (scrub, value) => format(value, scrub.param === RATE ? 3 : 4);

  /* A trace's look, for an overlay. */
  function drawnStyle(trace) {
    return { ...look(trace), hoverinfo: "skip", showlegend: false, opacity: trace.opacity ?? 1 };
  }

  /* A transparent figure laid over a graph div with the same size, margins, subplots and axis
     ranges, and nothing drawn but its traces; clicks pass through to the graph below. */
  class Overlay {
    constructor(base, div) {
      this.base = base;
      this.div = div;
      this.runs = "";
    }

    layout() {
      const full = this.base._fullLayout, size = full._size;
      const layout = {
        width: full.width,
        height: full.height,
        margin: { l: size.l, r: size.r, t: size.t, b: size.b, pad: 0 },
        showlegend: false,
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
      };
      for (const [name, axis] of Object.entries(full)) {
        if (!AXIS.test(name)) continue;
        const { type, range, domain, anchor } = axis;
        layout[name] = { type, range: [...range], domain: [...domain], anchor, visible: false, fixedrange: true };
      }
      return layout;
    }

    /* The draw of `traces` for the scrubbed `runs`: the same runs as drawn move their points
       (a redraw-less transition); another set lays the overlay out afresh. */
    drawing(runs, traces) {
      if (runs === this.runs) {
        const update = { data: traces.map(({ x, y }) => ({ x, y })), traces: traces.map((_, i) => i) };
        return () => Plotly.animate(this.div, update, FAST);
      }
      return () => {
        this.runs = runs;
        return Plotly.react(this.div, traces, this.layout(), OVERLAY_CONFIG);
      };
    }

    clear() {
      this.runs = "";
      if (this.div.data && this.div.data.length) Plotly.react(this.div, [], this.layout(), OVERLAY_CONFIG);
    }
  }

  class RateScrub {
    /* The runs' rows beside the picture: each run's name and outcome, a slider over its family
       of rates and, for a rule with a momentum, one over its family of β. */
    buildRates(controls) {
      if (this.dragging) {
        this.pendingControls = controls; // a slider in the hand is not replaced under it
        return;
      }
      const signature = JSON.stringify(controls);
      if (signature === this.ratesSignature) return; // the same sliders: keep them (and focus)
      this.ratesSignature = signature;
      this.rates.replaceChildren();
      this.scrubs = new Map(); // "run:param" → its entry
      controls.forEach((control, slot) => {
        const row = element("div", "dl-rate-row", this.rates);
        row.dataset.run = control.run;
        const head = element("div", "dl-rate-head", row);
        const swatch = element("span", "dl-swatch", head);
        swatch.style.background = control.color;
        element("span", "dl-rate-label", head).textContent = control.label;
        const rateValue = element("span", "dl-rate-value", head);
        const badge = element("span", "dl-badge", head);
        badge.textContent = control.words;
        badge.dataset.tone = control.tone;
        for (const scrub of control.scrubs) {
          const rate = scrub.param === RATE;
          if (!rate && scrub.mode === "hide") continue;
          // The rate's value sits in the head; a momentum's on a line of its own, with its slider.
          const line = rate ? row : element("div", "dl-param", row);
          const value = rate ? rateValue : element("span", "dl-param-value", line);
          value.dataset.param = scrub.param;
          if (scrub.mode !== "hide") value.textContent = `${scrub.symbol} = ${shown(scrub, scrub.value)}`;
          const family = scrub.family ? this.families.get(scrub.family) : null;
          const entry = { control, scrub, slot, family, value, badge };
          this.scrubs.set(`${control.run}:${scrub.param}`, entry);
          if (scrub.note) element("div", "dl-rate-note", line).textContent = scrub.note;
          if (family) this.buildTrack(entry, line);
        }
      });
    }

    /* A scrub's slider (one position per member of its family), its ends and, for a rate, the
       rule's critical rate marked on the track. */
    buildTrack(entry, parent) {
      const { control, scrub, family } = entry;
      const values = family.values, last = family.size - 1;
      const track = element("div", "dl-track", parent);
      const input = element("input", "dl-rate", track);
      input.type = "range";
      input.min = 0;
      input.max = last;
      input.step = 1;
      input.value = scrub.index;
      input.dataset.run = control.run;
      input.dataset.param = scrub.param;
      input.disabled = scrub.mode === "lock";
      const what = scrub.param === RATE ? "Learning rate" : `Momentum ${scrub.symbol}`;
      input.setAttribute("aria-label", `${what} of ${control.label}`);
      entry.input = input;
      const ticks = element("div", "dl-ticks", track);
      const low = element("span", "dl-tick dl-edge", ticks);
      low.textContent = shown(scrub, values[0]);
      low.style.left = "0%";
      const high = element("span", "dl-tick dl-edge dl-high", ticks);
      high.textContent = shown(scrub, values[last]);
      high.style.left = "100%";
      const critical = scrub.critical;
      if (critical && critical.value > values[0] && critical.value < values[last]) {
        const tick = element("span", "dl-tick dl-critical", ticks);
        tick.style.left = `${(Math.log(critical.value / values[0]) / Math.log(values[last] / values[0])) * 100}%`;
        tick.textContent = critical.short;
        tick.title = critical.label;
      }
      this.showRate(entry, scrub.index, scrub.exact);
      input.addEventListener("focus", () => (this.focusedScrub = `${control.run}:${scrub.param}`));
      input.addEventListener("pointerdown", () => this.holdRates());
      input.addEventListener("input", () => this.scrub(entry, Number(input.value)));
      input.addEventListener("change", () => {
        this.commit(entry, Number(input.value));
        this.releaseRates();
      });
    }

    /* While a slider is held, new sliders wait for its release. */
    holdRates() {
      this.dragging = true;
      for (const name of ["pointerup", "pointercancel"]) {
        window.addEventListener(name, () => this.releaseRates(), { once: true });
      }
    }

    releaseRates() {
      if (!this.dragging) return;
      this.dragging = false;
      const waiting = this.pendingControls;
      this.pendingControls = null;
      if (waiting) this.buildRates(waiting);
    }

    showRate(entry, k, exact = true) {
      const { family, scrub } = entry;
      entry.value.textContent = `${scrub.symbol} = ${shown(scrub, exact ? family.values[k] : scrub.value)}`;
      const words = exact ? family.words(k) : { text: entry.control.words || "", tone: entry.control.tone };
      entry.badge.textContent = words.text;
      entry.badge.dataset.tone = words.tone || "";
    }

    scrub(entry, k) {
      this.pause(false);
      this.showRate(entry, k);
      if (!this.scrubbing.size) this.widenMetricAxes(entry.family);
      if (!this.scrubbing.has(entry.control.run)) this.dim(entry, true);
      this.scrubbing.set(entry.control.run, { entry, k });
      if (!this.frameRequested) {
        this.frameRequested = true;
        requestAnimationFrame(() => this.drawScrub());
      }
    }

    /* The traces of a scrub's run on the plane (its path, then its position marker) and on
       the curves (one per metric its family holds), as [graph div, trace indices] pairs. */
    runTraces({ slot, family }) {
      const metrics = Object.keys(family.metrics).map((name) => this.metricIndex.get(`${slot}:${name}`));
      return [
        [this.plane, [this.pathTrace[slot], this.pathTrace[slot] + 1]],
        [this.metrics, metrics.filter((i) => i !== undefined)],
      ];
    }

    /* Dim a scrubbed run's committed path and all its curves (its member is drawn on the
       overlays, with the curves its family holds) through the opacity of their SVG groups,
       which plotly.js names after each trace's uid: no figure is redrawn, and the next drawing
       of the figure sets it back. */
    dim(entry, on) {
      const [plane, [metrics]] = this.runTraces(entry);
      const curves = metrics.data.flatMap((trace, i) => (trace.meta && trace.meta.run === entry.slot ? [i] : []));
      for (const [gd, traces] of [plane, [metrics, curves]]) {
        for (const i of traces) {
          const trace = gd._fullData && gd._fullData[i];
          const group = trace && gd.querySelector(`.trace${CSS.escape(trace.uid)}`);
          if (group) group.style.opacity = on ? DIMMED : trace.opacity ?? 1;
        }
      }
    }

    /* The scrubbed runs' members, drawn on the overlays at most once per animation frame; each
       overlay draws its latest update as soon as its previous one is done (the curves' at most
       every CURVES_EVERY_MS). */
    drawScrub() {
      this.frameRequested = false;
      const paths = [], curves = [];
      for (const { entry, k } of this.scrubbing.values()) {
        const family = entry.family;
        const [[plane, [line, marker]], [metrics, metricTraces]] = this.runTraces(entry);
        const path = family.path(k);
        const last = Math.min(family.last[k], family.points - 1);
        paths.push({ ...drawnStyle(plane.data[line]), ...path });
        paths.push({ ...drawnStyle(plane.data[marker]), x: [path.x[last]], y: [path.y[last]] });
        const names = Object.keys(family.metrics).filter((name, i) => metricTraces[i] !== undefined);
        metricTraces.forEach((trace, i) => {
          curves.push({ ...drawnStyle(metrics.data[trace]), x: family.metricSteps, y: family.series(names[i], k) });
        });
      }
      const runs = [...this.scrubbing.keys()].join(",");
      this.drawLayer("overlay", this.overlays.plane.drawing(runs, paths), 0, () => (store.pathUpdates += 1));
      this.drawLayer("curves", this.overlays.metrics.drawing(runs, curves), CURVES_EVERY_MS);
    }

    /* Forget every scrub: its runs are shown whole again, the overlays emptied. */
    clearScrub() {
      clearTimeout(this.commitTimer);
      for (const { entry } of this.scrubbing.values()) this.dim(entry, false);
      this.scrubbing.clear();
      for (const overlay of Object.values(this.overlays)) overlay.clear();
    }

    /* Run `draw()` (a promise) once the layer's previous draw is done and `every` ms have
       passed since it began; of the draws that wait, only the latest runs. */
    drawLayer(name, draw, every, done) {
      const layer = this.layers[name] || (this.layers[name] = { busy: false, next: null, at: 0 });
      const wait = layer.at + every - performance.now();
      if (layer.busy || wait > 0) {
        layer.next = draw;
        if (!layer.busy && !layer.timer) {
          layer.timer = setTimeout(() => {
            layer.timer = null;
            const next = layer.next;
            layer.next = null;
            if (next) this.drawLayer(name, next, every, done);
          }, wait);
        }
        return;
      }
      layer.busy = true;
      layer.at = performance.now();
      draw()
        .then(() => done && done())
        .catch(() => null) // interrupted by a newer update: that one draws
        .finally(() => {
          layer.busy = false;
          const next = layer.next;
          layer.next = null;
          if (next) this.drawLayer(name, next, every, done);
        });
    }

    widenMetricAxes(family) {
      const update = {};
      for (const [name, range] of Object.entries(family.ranges)) {
        const axis = this.metricAxis(name);
        if (!axis || !range) continue;
        const kind = (this.metricLayout[axis] || {}).type;
        const current = (this.metrics._fullLayout[axis] || {}).range || range;
        const wanted = kind === "log" ? range : [0, Math.pow(10, range[1])];
        update[`${axis}.range`] = [Math.min(current[0], wanted[0]), Math.max(current[1], wanted[1])];
        update[`${axis}.tickmode`] = "auto"; // the committed decade labels would crowd
        update[`${axis}.nticks`] = 6;
      }
      if (Object.keys(update).length) Plotly.relayout(this.metrics, update);
    }

    metricAxis(name) {
      const index = this.metricIndex.get(`0:${name}`) ?? [...this.metricIndex.entries()].find(([key]) => key.endsWith(`:${name}`))?.[1];
      if (index === undefined) return null;
      const trace = this.metrics.data[index];
      return `yaxis${(trace.yaxis || "y").slice(1)}`;
    }

    /* Release: commit the member's value; the rerun's drawing replaces the overlay. The value
       as committed needs no round trip: the plane simply shows it again. */
    commit(entry, k) {
      const run = entry.control.run;
      if (entry.scrub.exact && k === entry.scrub.index) {
        this.scrubbing.delete(run);
        this.dim(entry, false);
        this.drawScrub();
        return;
      }
      this.send("rate", { run, param: entry.scrub.param, value: entry.family.values[k] });
      clearTimeout(this.commitTimer);
      this.commitTimer = setTimeout(() => this.clearScrub(), COMMIT_WAIT_MS);
    }
  }

  window.DescentLiveParts.RateScrub = RateScrub;
  window.DescentLiveParts.Overlay = Overlay;
})();
