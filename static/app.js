// zws page: receives points over the WebSocket at /ws (same origin) and draws them with Flot.
// Browser protocol: README "Browser protocol". No build step: this file is served as is.
(function () {
  "use strict";

  /** Time window shown, in ms. */
  const WINDOW_MS = 60 * 1000;
  /** Most points kept per series (bounded memory whatever the rate). */
  const MAX_POINTS = 5000;
  /** Reconnect backoff: first delay and ceiling, in ms. */
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;

  const $status = $("#status");
  const $session = $("#session");
  const $rate = $("#rate");
  const $count = $("#count");

  /** name -> array of [x, y], ascending x. */
  const series = new Map();
  const plot = $.plot($("#chart"), [], {
    xaxis: { mode: "time", timeBase: "milliseconds", timezone: "browser", timeformat: "%H:%M:%S" },
    yaxis: { autoScale: "loose" },
    series: { lines: { show: true, lineWidth: 2 }, shadowSize: 0 },
    legend: { show: true, position: "nw" },
    grid: { borderWidth: 1, hoverable: false },
  });

  let state = "connecting";
  let sessionId = null;
  let ws = null;
  let attempt = 0;
  let countdownTimer = null;
  let drawPending = false;
  let received = 0;
  let receivedAtLastTick = 0;
  /** Where this page's data stands, to resume after a reconnect without gap or duplicate. */
  let epoch = null;
  let lastSeq = 0;

  function setState(next, text) {
    state = next;
    $status.attr("data-state", next).text(text || next);
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    setState(
      attempt === 0 ? "connecting" : "reconnecting",
      attempt === 0 ? "connecting" : "reconnecting",
    );
    // With viewer auth on, the page is opened as /?token=…; the WebSocket carries the same token.
    // After a reconnect, since/epoch ask for exactly what was missed.
    const params = new URLSearchParams();
    const token = new URLSearchParams(location.search).get("token");
    if (token) params.set("token", token);
    if (epoch !== null) {
      params.set("since", String(lastSeq));
      params.set("epoch", epoch);
    }
    const query = params.toString();
    ws = new WebSocket(proto + "//" + location.host + "/ws" + (query ? "?" + query : ""));
    ws.onopen = function () {
      attempt = 0;
      setState("connected");
    };
    ws.onmessage = function (e) {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch (_err) {
        return;
      }
      if (msg.type === "hello") {
        sessionId = msg.session;
        $session.text(String(msg.session).slice(0, 8));
        if (msg.epoch !== epoch) lastSeq = 0;
        epoch = msg.epoch;
      } else if (msg.type === "history" && Array.isArray(msg.points)) {
        // reset: the points do not continue what we hold (new server, or a gap): start over.
        if (msg.reset) {
          series.clear();
          lastSeq = 0;
        }
        addPoints(msg.points);
      } else if (msg.type === "points" && Array.isArray(msg.points)) {
        addPoints(msg.points);
      }
    };
    ws.onclose = function (e) {
      ws = null;
      // 1008: refused for policy; 4001: token expired. Retrying with the same token will not help.
      if (e.code === 1008 || e.code === 4001) {
        setState("closed", "closed (" + (e.reason || "refused") + ")");
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    const delay = base / 2 + Math.random() * base / 2; // jitter: [base/2, base)
    attempt++;
    const until = Date.now() + delay;
    const tick = function () {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setState("reconnecting", "reconnecting in " + left + " s");
    };
    tick();
    clearInterval(countdownTimer);
    countdownTimer = setInterval(tick, 250);
    setTimeout(function () {
      clearInterval(countdownTimer);
      connect();
    }, delay);
  }

  function addPoints(points) {
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (typeof p.x !== "number" || typeof p.y !== "number") continue;
      if (typeof p.seq === "number") {
        if (p.seq <= lastSeq) continue; // already drawn
        lastSeq = p.seq;
      }
      const name = typeof p.series === "string" ? p.series : "value";
      let data = series.get(name);
      if (!data) {
        data = [];
        series.set(name, data);
      }
      data.push([p.x, p.y]);
      // Trim in chunks so the cost is amortized: arrays stay within 1.25 x MAX_POINTS.
      if (data.length > MAX_POINTS * 1.25) data.splice(0, data.length - MAX_POINTS);
    }
    received += points.length;
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(draw);
    }
  }

  /** Series names come from producers: Flot puts labels into markup, so escape them. */
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  function draw() {
    drawPending = false;
    let latest = -Infinity;
    series.forEach(function (data) {
      if (data.length) latest = Math.max(latest, data[data.length - 1][0]);
    });
    const from = latest - WINDOW_MS;
    let shown = 0;
    const list = [];
    series.forEach(function (data, name) {
      let cut = 0;
      while (cut < data.length && data[cut][0] < from) cut++;
      if (cut > 0) data.splice(0, cut);
      shown += data.length;
      list.push({ label: escapeHtml(name), data: data });
    });
    plot.setData(list);
    plot.setupGrid(true); // true: recompute axis ranges (Flot >= 3 keeps the first ones otherwise)
    plot.draw();
    $count.text(shown);
  }

  setInterval(function () {
    $rate.text(received - receivedAtLastTick);
    receivedAtLastTick = received;
  }, 1000);

  $(globalThis).on("resize", function () {
    plot.resize();
    plot.setupGrid(true);
    plot.draw();
  });

  // For tests and the curious: window.zws.plot.getData(), window.zws.state.
  globalThis.zws = {
    get plot() {
      return plot;
    },
    get state() {
      return state;
    },
    get session() {
      return sessionId;
    },
    get lastSeq() {
      return lastSeq;
    },
    get epoch() {
      return epoch;
    },
  };

  connect();
})();
