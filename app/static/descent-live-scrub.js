/* Descent Lab's live view, part 2 of 3: the learning-rate scrub (loaded after part 1).
 *
 * One slider per run over its family's rates. While one is dragged, the run's path and marker
 * are drawn on a small transparent figure laid over the plane (same size, margins and axis
 * ranges; clicks pass through to the plane) and its committed path is dimmed: redrawing two
 * traces there costs a few ms, where a transition of the whole plane costs a full layout. The
 * curves follow at most ten times a second. Release commits the member's rate to Python.
 */
(() => {
  "use strict";
  const { store, FAST, METRICS_EVERY_MS, element, format } = window.DescentLiveParts;
  const OVERLAY_CONFIG = { staticPlot: true, displayModeBar: false };
  const COMMIT_WAIT_MS = 8000; // a commit that draws nothing (refused) gives the plane back
  const DATA_KEYS = new Set(["x", "y", "x0", "dx", "customdata", "hovertemplate", "text", "meta", "ids"]);

  /* A plane trace's look without its data, for the overlay. */
  function drawnStyle(trace) {
    const look = { hoverinfo: "skip", showlegend: false };
    for (const [key, value] of Object.entries(trace)) if (!DATA_KEYS.has(key)) look[key] = value;
    return { ...look, hoverinfo: "skip", opacity: trace.opacity ?? 1 };
  }

  class RateScrub {
    /* The learning-rate controls: one slider per run over its family's rates. */
    buildRates(controls) {
      const signature = JSON.stringify(controls);
      if (signature === this.ratesSignature) return; // the same sliders: keep them (and focus)
      this.ratesSignature = signature;
      this.rates.replaceChildren();
      this.rateRows = new Map();
      for (const control of controls) {
        const row = element("div", "dl-rate-row", this.rates);
        row.dataset.run = control.run;
        const head = element("div", "dl-rate-head", row);
        const swatch = element("span", "dl-swatch", head);
        swatch.style.background = control.color;
        const label = element("span", "dl-rate-label", head);
        label.textContent = control.label;
        const value = element("span", "dl-rate-value", head);
        const badge = element("span", "dl-badge", head);
        const family = control.family ? this.families.get(control.family) : null;
        const entry = { control, family, value, badge, row };
        this.rateRows.set(control.run, entry);
        if (!family) {
          if (control.mode !== "hide") value.textContent = `η₀ = ${format(control.rate)}`;
          badge.textContent = control.words;
          badge.dataset.tone = control.tone;
          if (control.note) element("div", "dl-rate-note", row).textContent = control.note;
          continue;
        }
        const track = element("div", "dl-track", row);
        const input = element("input", "dl-rate", track);
        input.type = "range";
        input.min = 0;
        input.max = family.size - 1;
        input.step = 1;
        input.value = control.index;
        input.dataset.run = control.run;
        input.disabled = control.mode === "lock";
        input.setAttribute("aria-label", `Learning rate of ${control.label}`);
        entry.input = input;
        const ticks = element("div", "dl-ticks", track);
        const place = (rate) => (Math.log(rate / family.rates[0]) / Math.log(family.rates[family.size - 1] / family.rates[0])) * 100;
        const low = element("span", "dl-tick dl-edge", ticks);
        low.textContent = format(family.rates[0]);
        low.style.left = "0%";
        const high = element("span", "dl-tick dl-edge dl-high", ticks);
        high.textContent = format(family.rates[family.size - 1]);
        high.style.left = "100%";
        if (control.critical && control.critical.value > family.rates[0] && control.critical.value < family.rates[family.size - 1]) {
          const tick = element("span", "dl-tick dl-critical", ticks);
          tick.style.left = `${place(control.critical.value)}%`;
          tick.textContent = control.critical.short;
          tick.title = control.critical.label;
        }
        this.showRate(entry, control.index, control.exact);
        input.addEventListener("focus", () => (this.focusedRun = control.run));
        input.addEventListener("input", () => this.scrub(entry, Number(input.value)));
        input.addEventListener("change", () => this.commit(entry, Number(input.value)));
      }
    }

    showRate(entry, k, exact = true) {
      const family = entry.family;
      const rate = exact ? family.rates[k] : entry.control.rate;
      entry.value.textContent = `η₀ = ${format(rate)}`;
      const words = exact ? family.words(k) : { text: entry.control.words || "", tone: entry.control.tone };
      entry.badge.textContent = words.text;
      entry.badge.dataset.tone = words.tone || "";
    }

    scrub(entry, k) {
      this.pause(false);
      this.showRate(entry, k);
      if (!this.scrubbing.size) this.widenMetricAxes(entry.family);
      if (!this.scrubbing.has(entry.control.run)) this.dim(entry.control.run, true);
      this.scrubbing.set(entry.control.run, k);
      if (!this.frameRequested) {
        this.frameRequested = true;
        requestAnimationFrame(() => this.drawScrub());
      }
    }

    /* The plane's traces of `run`: its path, then its position marker. */
    runTraces(run) {
      const index = this.data.controls.findIndex((c) => c.run === run);
      return [this.pathTrace[index], this.pathTrace[index] + 1];
    }

    /* Dim a scrubbed run's committed path on the plane (its member is drawn on the overlay). */
    dim(run, on) {
      const traces = this.runTraces(run);
      const opacity = traces.map((i) => (on ? 0.25 : this.plane.data[i].opacity ?? 1));
      return Plotly.restyle(this.plane, { opacity }, traces).catch(() => null);
    }

    /* The scrubbed runs' members, drawn at most once per animation frame; the overlay and the
       curves each draw their latest update as soon as their previous one is done, so the path
       never waits for the curves. */
    drawScrub() {
      this.frameRequested = false;
      const paths = [], metrics = { data: [], traces: [] };
      for (const [run, k] of this.scrubbing) {
        const family = this.rateRows.get(run).family;
        const index = this.data.controls.findIndex((c) => c.run === run);
        const path = family.path(k);
        const last = Math.min(family.last[k], family.points - 1);
        const [line, marker] = this.runTraces(run).map((i) => drawnStyle(this.plane.data[i]));
        paths.push({ ...line, ...path }, { ...marker, x: [path.x[last]], y: [path.y[last]] });
        for (const name of Object.keys(family.metrics)) {
          const trace = this.metricIndex.get(`${index}:${name}`);
          if (trace === undefined) continue;
          metrics.data.push({ x: family.metricSteps, y: family.series(name, k) });
          metrics.traces.push(trace);
        }
      }
      const layout = this.overlayLayout();
      this.drawLayer("overlay", () => Plotly.react(this.overlay, paths, layout, OVERLAY_CONFIG), 0, () => (store.pathUpdates += 1));
      if (metrics.traces.length) this.drawLayer("metrics", () => Plotly.animate(this.metrics, metrics, FAST), METRICS_EVERY_MS);
    }

    /* The overlay's layout: the plane's plot area and axis ranges, nothing drawn but the traces. */
    overlayLayout() {
      const full = this.plane._fullLayout, size = full._size;
      const axis = (a) => ({ type: a.type, range: [...a.range], domain: [...a.domain], visible: false, fixedrange: true });
      return {
        width: full.width,
        height: full.height,
        margin: { l: size.l, r: size.r, t: size.t, b: size.b, pad: 0 },
        xaxis: axis(full.xaxis),
        yaxis: axis(full.yaxis),
        showlegend: false,
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
      };
    }

    /* Forget every scrub: the committed picture is drawn afresh (see draw). */
    clearScrub() {
      clearTimeout(this.commitTimer);
      this.scrubbing.clear();
      if (this.overlay.data && this.overlay.data.length) Plotly.react(this.overlay, [], this.overlayLayout(), OVERLAY_CONFIG);
    }

    /* Draw with `draw()` (a promise) once the layer's previous draw is done and `every` ms have
       passed since it began (the curves yield the main thread to the path); only the latest
       waiting draw runs. */
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

    /* Release: commit the member's rate; the rerun's drawing replaces the overlay. The same rate
       as committed needs no round trip: the plane simply shows it again. */
    commit(entry, k) {
      const run = entry.control.run;
      if (entry.control.exact && k === entry.control.index) {
        this.scrubbing.delete(run);
        this.dim(run, false);
        this.drawScrub();
        return;
      }
      this.send("rate", { run, value: entry.family.rates[k] });
      clearTimeout(this.commitTimer);
      this.commitTimer = setTimeout(() => {
        this.clearScrub();
        this.dim(run, false);
      }, COMMIT_WAIT_MS);
    }
  }

  window.DescentLiveParts.RateScrub = RateScrub;
})();
