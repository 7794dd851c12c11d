"""The live view's two custom components and the page's own style.

The view ("descent_live") loads plotly.min.js and the three scripts of app/static/ in order,
once per page, and hands each of its reruns to `DescentLive.render`; a "blob" carrier
("descent_live_blob") holds one payload for it (see `app.live.payloads`). Style and script are
static files, cached by the browser, not sent with every rerun.
"""

from __future__ import annotations

import hashlib
import json

import plotly
import streamlit as st

from app.assets import STATIC

LIVE_SCRIPTS = ("descent-live-parts.js", "descent-live-scrub.js", "descent-live.js")  # in order
FAVICON = STATIC / "favicon.svg"


def _version() -> str:
    digest = hashlib.blake2b(digest_size=6)
    for name in (*LIVE_SCRIPTS, "descent-live.css"):
        digest.update((STATIC / name).read_bytes())
    digest.update(plotly.__version__.encode())
    return digest.hexdigest()


_VIEW_JS = """
const VERSION = "VERSION_HASH";
const SCRIPTS = SCRIPT_NAMES;
function load(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src + "?v=" + VERSION;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(script);
  });
}
export default function (component) {
  if (!window.__descentLiveLoading) {
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "./app/static/descent-live.css?v=" + VERSION;
    document.head.appendChild(style);
  }
  window.__descentLiveLoading = window.__descentLiveLoading ||
    SCRIPTS.reduce(
      (loaded, name) => loaded.then(() => load("./app/static/" + name)),
      window.Plotly ? Promise.resolve() : load("./app/static/plotly.min.js"),
    );
  window.__descentLiveLoading.then(() => window.DescentLive.render(component));
}
""".replace("VERSION_HASH", _version()).replace("SCRIPT_NAMES", json.dumps(LIVE_SCRIPTS))

_BLOB_JS = """
export default function ({ parentElement, data }) {
  const store = window.__descentLiveStore || (window.__descentLiveStore = { blobs: new Map() });
  const box = parentElement.closest && parentElement.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
  store.blobs.set(data.id, data.payload);
  window.dispatchEvent(new CustomEvent("descent-live-blob"));
}
"""

_PAGE_CSS = (STATIC / "page.css").read_text()
_PRESENT_CSS = (STATIC / "present.css").read_text()


def page_css(present: bool) -> str:
    """The page's own style: a compact header, and presenter mode's large type."""
    return f"<style>{_PAGE_CSS}{_PRESENT_CSS if present else ''}</style>"


view_component = st.components.v2.component("descent_live", js=_VIEW_JS, isolate_styles=False)
blob_component = st.components.v2.component("descent_live_blob", js=_BLOB_JS, isolate_styles=False)
