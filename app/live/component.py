"""The live view's two custom components and the page's own style.

The page's first element (`page_head`) fetches plotly.min.js and the three scripts of app/static/
at once, run in order, once per page; the view ("descent_live") waits for them and hands each of
its reruns to `DescentLive.render`; a "blob" carrier
("descent_live_blob") holds one payload for it (see `app.live.payloads`). Style and script are
static files, cached by the browser, not sent with every rerun.
"""

from __future__ import annotations

import hashlib
import json

import plotly
import streamlit as st

from app.assets import STATIC, ensure_plotly_asset
from app.figures import ANIMATION_GUARD

LIVE_SCRIPTS = ("descent-live-parts.js", "descent-live-scrub.js", "descent-live.js")  # in order
FAVICON = STATIC / "favicon.svg"


def _version() -> str:
    digest = hashlib.blake2b(digest_size=6)
    for name in (*LIVE_SCRIPTS, "descent-live.css"):
        digest.update((STATIC / name).read_bytes())
    digest.update(plotly.__version__.encode())
    return digest.hexdigest()


# Fetches plotly.min.js, the style and the three scripts at once (run in order: `async = false`),
# once per page; the page's head starts it, long before the view mounts, which waits for it.
_LOAD_JS = """
const VERSION = "VERSION_HASH";
const FILES = FILE_NAMES;
function loadLive() {
  if (window.__descentLiveLoading) return window.__descentLiveLoading;
  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = "./app/static/descent-live.css?v=" + VERSION;
  document.head.appendChild(style);
  const wanted = FILES.filter((name) => !(name === "plotly.min.js" && window.Plotly));
  const loads = wanted.map((name) => new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "./app/static/" + name + "?v=" + VERSION;
    script.async = false;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + name));
    document.head.appendChild(script);
  }));
  window.__descentLiveLoading = Promise.all(loads);
  return window.__descentLiveLoading;
}
""".replace("VERSION_HASH", _version()).replace(
    "FILE_NAMES", json.dumps(["plotly.min.js", *LIVE_SCRIPTS])
)

_VIEW_JS = (
    _LOAD_JS
    + """
export default function (component) {
  loadLive().then(() => window.DescentLive.render(component));
}
"""
)

_BLOB_JS = """
export default function ({ parentElement, data }) {
  const store = window.__descentLiveStore || (window.__descentLiveStore = { blobs: new Map() });
  const box = parentElement.closest && parentElement.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const cut = bytes.indexOf(10); // the id, a newline, the JSON: parsed once per id
  const decoder = new TextDecoder();
  const id = decoder.decode(bytes.subarray(0, cut));
  if (!store.blobs.has(id)) {
    store.blobs.set(id, JSON.parse(decoder.decode(bytes.subarray(cut + 1))));
  }
  window.dispatchEvent(new CustomEvent("descent-live-blob"));
}
"""

# Marks the app "dl-slow" while a rerun has been running for SLOW_MS: page.css fades stale
# elements only then (Streamlit's own fade costs every rerun a repaint of each of them).
_SLOW_RERUN_JS = """(() => {
  if (window.__descentLabSlowRerun) return;
  window.__descentLabSlowRerun = true;
  const SLOW_MS = 500;
  let timer = null;
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return setTimeout(watch, 100);
    new MutationObserver(() => {
      clearTimeout(timer);
      if (app.getAttribute("data-test-script-state") === "running") {
        timer = setTimeout(() => app.classList.add("dl-slow"), SLOW_MS);
      } else {
        app.classList.remove("dl-slow");
      }
    }).observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
  };
  watch();
})();"""
_PAGE_CSS = (STATIC / "page.css").read_text()
_PRESENT_CSS = (STATIC / "present.css").read_text()


def page_head(present: bool) -> None:
    """The page's own style (a compact header, and presenter mode's large type), the start of
    the live view's script loading, the animation guard (`figures.ANIMATION_GUARD`) and the
    watch for slow reruns (`_SLOW_RERUN_JS`): the
    first element on the page, so that the browser parses plotly.js while Streamlit draws the
    rest (the view mounts far later)."""
    ensure_plotly_asset()
    style = f"<style>{_PAGE_CSS}{_PRESENT_CSS if present else ''}</style>"
    script = f"<script>{_LOAD_JS}loadLive();{ANIMATION_GUARD}{_SLOW_RERUN_JS}</script>"
    st.html(style + script, unsafe_allow_javascript=True)


view_component = st.components.v2.component("descent_live", js=_VIEW_JS, isolate_styles=False)
blob_component = st.components.v2.component("descent_live_blob", js=_BLOB_JS, isolate_styles=False)
