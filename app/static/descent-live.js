/* Descent Lab's live view: the contour with every run's path, the metric curves, Play / Pause /
 * step, and a learning-rate scrub per run (and a momentum scrub for a rule with one), all drawn
 * by plotly.js in the browser.
 *
 * Three files, loaded in order: descent-live-parts.js (decoding, shared), descent-live-scrub.js
 * (the rate sliders), this one (the view). Python (app/live/) mounts two custom components:
 * "blob" carriers, each holding one payload (the surface layer, a run, a run's learning-rate
 * family, the metrics layout) under an id that is a hash of its content, and the view, whose
 * data names the ids it needs. An unchanged carrier is not sent again (Streamlit's message
 * cache), so a committed change ships only the payloads that changed. While a rate slider is
 * dragged, the run's member at that rate is drawn on an overlay over the plane and its curves
 * are swapped with redraw-less `Plotly.animate` calls: no round trip. On release the member's
 * rate is committed to Python, exactly like a typed rate.
 *
 * What tests and the benchmark read (tests/browser/, bench/browser.py):
 *   .dl-live[data-revision]     bumped after each drawn configuration (committed data)
 *   .dl-plane, .dl-metrics      the plotly.js graph divs (gd._fullData, gd._fullLayout)
 *   .dl-overlay                 graph divs over the plane and over the curves: the paths and
 *                               curves of the rates being dragged
 *   .dl-play (▶ 0.5×, 1×, 2×), .dl-pause, input.dl-step, .dl-step-label ("step k")
 *   input.dl-rate[data-run=i][data-param=p]   run i's scrub of p ("lr", or its momentum
 *                               "beta" / "b1"): one position per family member
 *   .dl-rate-row[data-run=i] .dl-rate-value ("η₀ = …"), .dl-badge[data-tone] (the outcome),
 *   .dl-param-value[data-param=p] ("β = …") the momentum's value
 *   .dl-hover                   the read-out under the pointer on the plane
 *   .dl-lesson (.dl-question, .dl-look-for, .dl-lesson-close)   the open lesson
 *   window.__descentLiveStore   {blobs, pathUpdates (path redraws so far), revision,
 *                               receivedAt (new data arrived), drawnAt (it is drawn)}
 */
(() => {
  "use strict";
  if (window.DescentLive) return;
  const { store, BLOB_EVENT, FAST, CONFIG, DATA_KEYS, typed, look, format, element, Family, RateScrub, Overlay } = window.DescentLiveParts;

  class LiveView extends RateScrub {
    constructor(parent) {
      super();
      this.root = element("div", "dl-live", parent);
      this.planeBox = element("div", "dl-plane-box", this.root);
      this.plane = element("div", "dl-plane", this.planeBox);
      const planeOverlay = element("div", "dl-overlay", this.planeBox); // the dragged rates' paths
      this.hover = element("div", "dl-hover", this.planeBox);
      this.bar = element("div", "dl-bar", this.planeBox);
      this.side = element("div", "dl-side", this.root);
      this.lesson = element("div", "dl-lesson", this.side);
      this.rates = element("div", "dl-rates", this.side);
      const metricsBox = element("div", "dl-metrics-box", this.side);
      this.metrics = element("div", "dl-metrics", metricsBox);
      const metricsOverlay = element("div", "dl-overlay", metricsBox); // and their curves
      this.overlays = { plane: new Overlay(this.plane, planeOverlay), metrics: new Overlay(this.metrics, metricsOverlay) };
      this.families = new Map();
      this.layers = {};
      this.timer = null;
      this.scrubbing = new Map();
      this.heldStep = null;
      this.stepCommit = null;
      this.stepSeq = 0;
      this.buildBar();
      window.addEventListener(BLOB_EVENT, () => this.pending && this.tryDraw());
      document.addEventListener("keydown", (e) => this.onKey(e));
      this.plane.addEventListener("mousedown", (e) => (this.down = [e.clientX, e.clientY]));
      this.plane.addEventListener("click", (e) => this.onClick(e));
      this.plane.addEventListener("mousemove", (e) => this.onHover(e));
      this.plane.addEventListener("mouseleave", () => (this.hover.style.display = "none"));
      new ResizeObserver(() => this.resize()).observe(this.planeBox);
    }

    buildBar() {
      this.playButtons = [];
      for (const speed of [0.5, 1, 2]) {
        const button = element("button", "dl-play", this.bar);
        button.textContent = `▶ ${speed}×`;
        button.title = `Play the race at ${speed}× speed`;
        button.addEventListener("click", () => this.play(speed, 0));
        this.playButtons.push(button);
      }
      this.pauseButton = element("button", "dl-pause", this.bar);
      this.pauseButton.textContent = "❚❚";
      this.pauseButton.title = "Pause";
      this.pauseButton.addEventListener("click", () => this.pause());
      this.stepInput = element("input", "dl-step", this.bar);
      this.stepInput.type = "range";
      this.stepInput.min = 0;
      this.stepInput.setAttribute("aria-label", "Step");
      this.stepLabel = element("span", "dl-step-label", this.bar);
      this.stepInput.addEventListener("input", () => {
        this.pause(false);
        this.showStep(Number(this.stepInput.value));
      });
      this.stepInput.addEventListener("change", () => this.sendStep(Number(this.stepInput.value)));
    }

    /* A trigger value: Python's on_<name>_change callback reads it once, in the rerun it causes. */
    send(name, value) {
      if (this.setTriggerValue) this.setTriggerValue(name, value);
    }

    /* Commit the shown step. Its seq (increasing, also across remounts) comes back as
       data.step_seq once the server has seen it: reruns already on their way keep this step. */
    sendStep(step) {
      clearTimeout(this.stepCommit);
      this.stepCommit = null;
      this.heldStep = step;
      this.stepSeq = Math.max(Date.now(), this.stepSeq + 1);
      this.send("step", { step, seq: this.stepSeq });
    }

    update(data, setTriggerValue) {
      store.receivedAt = performance.now();
      this.setTriggerValue = setTriggerValue;
      this.pending = data;
      this.tryDraw();
    }

    familyIds(data) {
      return data.controls.flatMap((control) => control.scrubs.map((scrub) => scrub.family));
    }

    ids(data) {
      return [data.surface, data.metrics, ...data.runs, ...this.familyIds(data)].filter(Boolean);
    }

    missing(data) {
      return this.ids(data).filter((id) => !store.blobs.has(id));
    }

    /* Forget payloads no longer shown: their carriers are gone from the page. */
    prune(data) {
      const kept = new Set(this.ids(data));
      for (const id of store.blobs.keys()) if (!kept.has(id)) store.blobs.delete(id);
      for (const id of this.families.keys()) if (!kept.has(id)) this.families.delete(id);
    }

    tryDraw() {
      const data = this.pending;
      if (!data || this.missing(data).length || !window.Plotly) return;
      this.pending = null;
      this.draw(data);
      this.prune(data);
    }

    draw(data) {
      this.pause(false);
      if (this.data) this.clearScrub();
      this.data = data;
      this.surface = store.blobs.get(data.surface);
      this.runs = data.runs.map((id) => store.blobs.get(id));
      this.metricsLayer = store.blobs.get(data.metrics);
      for (const id of this.familyIds(data)) {
        if (id && !this.families.has(id)) this.families.set(id, new Family(store.blobs.get(id)));
      }
      const surface = this.surface;
      const planeTraces = [...surface.traces.slice(0, surface.before_runs)];
      this.pathTrace = [];
      for (const run of this.runs) {
        this.pathTrace.push(planeTraces.length);
        planeTraces.push(...run.plane.map((trace) => ({ ...trace }))); // Plotly.animate writes into its traces: keep the payload whole
      }
      planeTraces.push(...surface.traces.slice(surface.before_runs));
      for (const run of this.runs) planeTraces.push(...run.exit);
      const present = !!data.present;
      this.root.classList.toggle("dl-present", present);
      if (present) this.thicken(planeTraces);
      const colours = this.colours();
      const font = { size: present ? 18 : 12, color: colours.text };
      // No legend: each run's row beside the picture names it, with its colour.
      const planeLayout = {
        ...surface.layout,
        font,
        showlegend: false,
        // Fixed margins: automargin would lay the figure out twice on every draw.
        margin: { l: 36, r: 10, t: 12, b: 36 },
        ...colours.layout,
        xaxis: { ...surface.layout.xaxis, color: colours.text },
        yaxis: { ...surface.layout.yaxis, color: colours.text },
        annotations: this.runs.flatMap((r) => r.annotations),
      };
      Object.assign(planeLayout, this.size());
      this.anims = this.runs.map((run) => ({
        x: typed(run.anim.x || run.plane[0].x),
        y: typed(run.anim.y || run.plane[0].y),
        steps: run.anim.steps ? typed(run.anim.steps) : null,
      }));
      this.lastStep = Math.max(0, ...this.runs.map((r) => r.last_step));
      this.stepInput.max = this.lastStep;
      // One step for the picture, the inspector and the curves: a step chosen elsewhere (the
      // inspector's slider, a link) is shown too; the full paths otherwise. A step chosen here
      // that the server has not seen yet wins over a rerun that was already on its way.
      const mine = this.stepCommit !== null || (data.step_seq || 0) < this.stepSeq;
      const moved = !mine && data.step !== this.dataStep && data.step > 0; // a link's step too
      this.dataStep = data.step;
      if (mine) this.heldStep = Math.min(Number(this.stepInput.value), this.lastStep);
      else if (moved) this.heldStep = Math.min(data.step, this.lastStep);
      const held = this.heldStep !== null && (mine || data.step === this.heldStep) && this.heldStep < this.lastStep;
      this.stepInput.value = held ? this.heldStep : this.lastStep;
      this.stepLabel.textContent = `step ${this.stepInput.value}`;
      if (!held) this.heldStep = null;

      const metricTraces = [...this.runs.flatMap((r) => r.metrics.map((trace) => ({ ...trace }))), ...this.metricsLayer.traces];
      this.metricIndex = new Map();
      metricTraces.forEach((trace, i) => {
        if (trace.meta && trace.meta.metric) this.metricIndex.set(`${trace.meta.run}:${trace.meta.metric}`, i);
      });
      this.metricLayout = {
        ...this.metricsLayer.layout,
        ...colours.layout,
        font,
        showlegend: false,
        margin: { l: 74, r: 8, t: 12, b: 36 },
      };
      for (const name of Object.keys(this.metricLayout)) {
        if (/^[xy]axis\d*$/.test(name)) this.metricLayout[name] = { ...this.metricLayout[name], ...colours.axis };
      }
      if (present) this.thicken(metricTraces);
      const drawn = [
        this.drawPlane(planeTraces, planeLayout, data),
        Plotly.react(this.metrics, metricTraces, { template: surface.layout.template, ...this.metricLayout }, CONFIG),
      ];
      this.buildLesson(data.lesson);
      this.buildRates(data.controls);
      Promise.all(drawn).then(() => {
        if (held) this.showStep(this.heldStep);
        store.revision += 1;
        store.drawnAt = performance.now();
        this.root.dataset.revision = String(store.revision);
      });
    }

    /* The plane, redrawn: when the surface, the layout and every trace's look are those drawn
       and only the runs' data changed (a committed rate), the changed traces move with a
       redraw-less transition, as Play moves them (the contour is not drawn again); anything
       else, or paths that a step cut, lays the plane out afresh. */
    drawPlane(traces, layout, data) {
      const { width, height, annotations } = layout;
      const runs = this.runs.map((run) => [run.plane.map(look), run.exit.map(look)]);
      const shape = JSON.stringify([data.surface, data.present, width, height, annotations, layout.font, runs]);
      const drawn = this.planeTraces; // as given to plotly.js, before it decoded them
      const stepped = this.stepped; // Play or the step slider cut the paths since
      this.planeTraces = traces;
      this.stepped = false;
      if (stepped || shape !== this.planeShape || !drawn || drawn.length !== traces.length || !this.plane._fullLayout) {
        this.planeShape = shape;
        return Plotly.react(this.plane, traces, layout, CONFIG);
      }
      const moved = traces.flatMap((trace, i) => (DATA_KEYS.some((key) => trace[key] !== drawn[i][key]) ? [i] : []));
      const update = moved.map((i) => {
        const values = {};
        for (const key of DATA_KEYS) if (key in traces[i]) values[key] = typed(traces[i][key]);
        return values;
      });
      return moved.length ? Plotly.animate(this.plane, { data: update, traces: moved }, FAST) : Promise.resolve();
    }

    /* The theme's colours (Streamlit's --st-* properties around the component), for plotly. */
    colours() {
      const style = getComputedStyle(this.root);
      const text = style.getPropertyValue("--st-text-color").trim() || "#111418";
      const clear = "rgba(0,0,0,0)";
      return {
        text,
        layout: { paper_bgcolor: clear, plot_bgcolor: clear },
        axis: { color: text, gridcolor: "rgba(128,128,128,0.25)", zerolinecolor: "rgba(128,128,128,0.4)" },
      };
    }

    /* Presenter mode: paths and curves a back row can see. */
    thicken(traces) {
      traces.forEach((trace, i) => {
        if (!String(trace.legendgroup || "").startsWith("run-")) return;
        const thick = { ...trace };
        if (trace.line) thick.line = { ...trace.line, width: Math.max(trace.line.width || 2, 2) * 1.8 };
        if (trace.marker && trace.marker.size) thick.marker = { ...trace.marker, size: trace.marker.size * 1.4 };
        traces[i] = thick;
      });
    }

    /* Keys (presenter mode's remote): space Play / Pause, ← → a frame, ↑ ↓ the rate, R restart. */
    onKey(event) {
      const target = event.target;
      const typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName));
      if (!this.data || typing || event.ctrlKey || event.metaKey || event.altKey) return;
      const frames = this.frameSteps();
      const now = Number(this.stepInput.value);
      if (event.key === " ") {
        if (this.timer !== null) this.pause();
        else this.play(1, now < this.lastStep ? now : 0);
      } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        const next = event.key === "ArrowRight" ? frames.find((s) => s > now) : [...frames].reverse().find((s) => s < now);
        if (next === undefined) return;
        this.pause(false);
        this.showStep(next);
        clearTimeout(this.stepCommit);
        this.stepCommit = setTimeout(() => this.sendStep(next), 600);
      } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        const entry = this.scrubs.get(this.focusedScrub) || [...this.scrubs.values()].find((e) => e.input && !e.input.disabled);
        if (!entry || !entry.input || entry.input.disabled) return;
        const k = Math.min(Math.max(Number(entry.input.value) + (event.key === "ArrowUp" ? 1 : -1), 0), entry.family.size - 1);
        entry.input.value = k;
        this.scrub(entry, k);
        clearTimeout(this.rateCommit);
        this.rateCommit = setTimeout(() => this.commit(entry, k), 600);
      } else if (event.key === "r" || event.key === "R") {
        this.play(1, 0);
      } else {
        return;
      }
      event.preventDefault();
    }

    size() {
      const width = Math.max(260, this.planeBox.clientWidth || 600);
      const box = this.surface ? this.surface.box : [0, 1, 0, 1];
      const aspect = (box[3] - box[2]) / (box[1] - box[0]);
      const free = this.surface && this.surface.equal_axes === false ? 0.8 : Math.min(Math.max(aspect, 0.4), 1.6);
      // The plane and its Play bar fit in the window below where the plane starts (a projector).
      const top = this.planeBox.getBoundingClientRect().top + window.scrollY;
      const room = window.innerHeight - Math.min(top, window.innerHeight * 0.4) - 56;
      const height = Math.round(Math.min(Math.max(width * free + 60, 300), Math.max(room, 320)));
      return { width, height };
    }

    resize() {
      if (!this.data || !this.plane._fullLayout) return;
      const { width, height } = this.size();
      if (Math.abs(width - this.plane._fullLayout.width) > 2) Plotly.relayout(this.plane, { width, height });
    }

    /* The open lesson beside the picture: its question, and what to look for (as text). */
    buildLesson(lesson) {
      this.lesson.replaceChildren();
      this.lesson.hidden = !lesson;
      if (!lesson) return;
      const head = element("div", "dl-lesson-head", this.lesson);
      element("strong", "", head).textContent = `Lesson: ${lesson.title}`;
      for (const concept of lesson.concepts) element("span", "dl-concept", head).textContent = concept;
      const close = element("button", "dl-lesson-close", head);
      close.textContent = "Close";
      close.title = "Close the lesson (the setup stays)";
      close.addEventListener("click", () => this.send("close", true));
      const question = element("p", "dl-question", this.lesson);
      element("strong", "", question).textContent = "Predict, then run. ";
      question.append(lesson.question);
      const details = element("details", "dl-look-for", this.lesson);
      element("summary", "", details).textContent = "What to look for";
      element("p", "", details).textContent = lesson.look_for;
    }
    /* Play / Pause / step. */
    frameSteps() {
      const count = Math.max(1, Math.min(this.data.frames, this.lastStep + 1));
      const steps = new Set();
      for (let i = 0; i < count; i++) steps.add(Math.round((i * this.lastStep) / Math.max(count - 1, 1)));
      return [...steps].sort((a, b) => a - b);
    }

    play(speed, from = 0) {
      this.pause(false);
      const steps = this.frameSteps();
      let i = Math.max(0, steps.findIndex((s) => s >= from));
      const tick = () => {
        if (i >= steps.length) {
          this.timer = null;
          return;
        }
        this.showStep(steps[i++]).then(() => {
          if (this.timer !== null) this.timer = setTimeout(tick, this.data.frame_ms / speed);
        });
      };
      this.timer = 0;
      tick();
    }

    pause(commit = true) {
      if (this.timer) clearTimeout(this.timer);
      const was = this.timer !== null;
      this.timer = null;
      if (was && commit) this.sendStep(Number(this.stepInput.value));
    }

    showStep(step) {
      this.stepped = true;
      this.stepInput.value = step;
      this.stepLabel.textContent = `step ${step}`;
      const data = [], traces = [];
      this.runs.forEach((run, index) => {
        const { x, y, steps } = this.anims[index];
        let count = 0;
        if (steps) while (count < steps.length && steps[count] <= step) count++;
        else count = Math.min(step + 1, x.length);
        const end = Math.max(count, 1);
        const full = step >= run.last_step;
        data.push(
          full ? { x: run.plane[0].x, y: run.plane[0].y } : { x: x.subarray(0, end), y: y.subarray(0, end) },
          { x: [x[end - 1]], y: [y[end - 1]] },
        );
        traces.push(this.pathTrace[index], this.pathTrace[index] + 1);
      });
      return Plotly.animate(this.plane, { data, traces }, FAST)
        .then(() => (store.pathUpdates += 1))
        .catch(() => null); // interrupted by a newer frame or a redraw
    }

    /* The start point: a click on the contour. */
    point(event) {
      const layout = this.plane._fullLayout;
      const drag = this.plane.querySelector(".nsewdrag");
      if (!layout || !drag) return null;
      const box = drag.getBoundingClientRect();
      const px = event.clientX - box.left, py = event.clientY - box.top;
      if (px < 0 || py < 0 || px > box.width || py > box.height) return null;
      return [layout.xaxis.p2l(px), layout.yaxis.p2l(py)];
    }

    onClick(event) {
      if (!this.data || !this.data.start) return;
      const moved = this.down && Math.hypot(event.clientX - this.down[0], event.clientY - this.down[1]) > 4;
      const point = this.point(event);
      if (moved || !point) return;
      this.send("start", { x: point[0], y: point[1] });
    }

    onHover(event) {
      const point = this.point(event);
      const grid = this.surface && this.surface.hover;
      if (!point || !grid) {
        this.hover.style.display = "none";
        return;
      }
      const f = typed(grid.f);
      const n = grid.n, [x0, x1, y0, y1] = grid.box;
      const i = Math.round(((point[1] - y0) / (y1 - y0)) * (n - 1));
      const j = Math.round(((point[0] - x0) / (x1 - x0)) * (n - 1));
      if (i < 0 || j < 0 || i >= n || j >= n) return;
      const click = this.data.start ? " · click: start here" : "";
      this.hover.textContent = `(${format(point[0])}, ${format(point[1])})  f ≈ ${format(f[i * n + j])}${click}`;
      this.hover.style.display = "block";
    }
  }

  function render(component) {
    const { parentElement, data, setTriggerValue } = component;
    let view = parentElement.__descentLive;
    if (!view) {
      view = new LiveView(parentElement);
      parentElement.__descentLive = view;
      window.__descentLiveView = view;
    }
    view.update(data, setTriggerValue);
  }

  window.DescentLive = { render, store };
})();
