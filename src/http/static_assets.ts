/**
 * The files the server serves: the page from `static/` and the two vendor libraries from npm,
 * embedded in the module graph (so `deno compile` carries them and nothing is read from disk at
 * run time). Only these exact paths exist: traversal has nothing to reach.
 *
 * @module
 */
import indexHtml from "../../static/index.html" with { type: "text" };
import appJs from "../../static/app.js" with { type: "text" };
import protocolJs from "../../static/protocol.js" with { type: "text" };
import storeJs from "../../static/store.js" with { type: "text" };
import chartJs from "../../static/chart.js" with { type: "text" };
import legendJs from "../../static/legend.js" with { type: "text" };
import connectionJs from "../../static/connection.js" with { type: "text" };
import layoutJs from "../../static/layout.js" with { type: "text" };
import panelsJs from "../../static/panels.js" with { type: "text" };
import historyJs from "../../static/history.js" with { type: "text" };
import exportJs from "../../static/export.js" with { type: "text" };
import rateJs from "../../static/rate.js" with { type: "text" };
import addressJs from "../../static/address.js" with { type: "text" };
import catalogJs from "../../static/catalog.js" with { type: "text" };
import controlsJs from "../../static/controls.js" with { type: "text" };
import debugJs from "../../static/debug.js" with { type: "text" };
import decimationJs from "../../static/decimation.js" with { type: "text" };
import drawJs from "../../static/draw.js" with { type: "text" };
import feedJs from "../../static/feed.js" with { type: "text" };
import figuresJs from "../../static/figures.js" with { type: "text" };
import formatJs from "../../static/format.js" with { type: "text" };
import placementJs from "../../static/placement.js" with { type: "text" };
import readoutJs from "../../static/readout.js" with { type: "text" };
import viewJs from "../../static/view.js" with { type: "text" };
import styleCss from "../../static/style.css" with { type: "text" };
import jquery from "jquery/dist/jquery.min.js" with { type: "text" };
import flot from "flot/dist/es5/jquery.flot.js" with { type: "text" };

/** One servable file. */
export interface Asset {
  body: string;
  contentType: string;
  /** Strong validator: content hash. */
  etag: string;
  /** Cache-Control value. */
  cacheControl: string;
}

const JS = "text/javascript; charset=utf-8";

const files: Array<[string, string, string, boolean]> = [
  ["/", indexHtml, "text/html; charset=utf-8", false],
  ["/index.html", indexHtml, "text/html; charset=utf-8", false],
  ["/app.js", appJs, JS, false],
  // The page's ES modules (app.js imports them; protocol.js is shared with the server).
  ["/protocol.js", protocolJs, JS, false],
  ["/store.js", storeJs, JS, false],
  ["/chart.js", chartJs, JS, false],
  ["/legend.js", legendJs, JS, false],
  ["/connection.js", connectionJs, JS, false],
  ["/layout.js", layoutJs, JS, false],
  ["/panels.js", panelsJs, JS, false],
  ["/history.js", historyJs, JS, false],
  ["/export.js", exportJs, JS, false],
  ["/rate.js", rateJs, JS, false],
  ["/address.js", addressJs, JS, false],
  ["/catalog.js", catalogJs, JS, false],
  ["/controls.js", controlsJs, JS, false],
  ["/debug.js", debugJs, JS, false],
  ["/decimation.js", decimationJs, JS, false],
  ["/draw.js", drawJs, JS, false],
  ["/feed.js", feedJs, JS, false],
  ["/figures.js", figuresJs, JS, false],
  ["/format.js", formatJs, JS, false],
  ["/placement.js", placementJs, JS, false],
  ["/readout.js", readoutJs, JS, false],
  ["/view.js", viewJs, JS, false],
  ["/style.css", styleCss, "text/css; charset=utf-8", false],
  ["/vendor/jquery.min.js", jquery, JS, true],
  ["/vendor/jquery.flot.js", flot, JS, true],
];

function hash(s: string): string {
  // FNV-1a, 32 bit: enough for an ETag.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `"${h.toString(16)}-${s.length.toString(16)}"`;
}

/** Every servable path and its file. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  files.map(([path, body, contentType, vendor]) => [path, {
    body,
    contentType,
    etag: hash(body),
    cacheControl: vendor ? "public, max-age=86400" : "no-cache",
  }]),
);

/** Looks up the file for a request path (already URL-normalized); undefined means 404. */
export function findAsset(pathname: string): Asset | undefined {
  return ASSETS.get(pathname);
}
