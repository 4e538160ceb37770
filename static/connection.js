// The page's connection: a WebSocket to /ws, or Server-Sent Events from /events where WebSockets
// cannot open; reconnects with jittered backoff and resumes where the data stood. What a close
// code means comes from protocol.js (the table the server's codes are tested against).

import { CLOSE_CODES, closeAction } from "./protocol.js";

/** Reconnect backoff: first delay and ceiling, in ms. */
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 15000;
/** WebSocket opens that fail in a row before falling back to SSE (none opened yet / some did). */
const WS_FAILS_BEFORE_SSE = 2;
const WS_FAILS_AFTER_OPEN = 6;

/**
 * Creates the connection (call `connect()` to start). `hooks`: `query(kind)` (the query string of
 * the next connection, "websocket" or "sse"), `onMessage(text)`, `onState(state, text)`,
 * `onTransport(kind)`.
 */
export function createConnection(hooks) {
  let transport = "websocket";
  /** The open connection: a WebSocket or an EventSource. */
  let conn = null;
  let attempt = 0;
  let wsFailures = 0;
  let wsEverOpened = false;
  let reconnectTimer = null;
  let countdownTimer = null;

  function useTransport(kind) {
    transport = kind;
    hooks.onTransport(kind);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    hooks.onState(attempt === 0 ? "connecting" : "reconnecting");
    if (transport === "websocket") openWebSocket();
    else openEventSource();
  }

  /** Whether a close with `code` ends the retries (a new token or page is needed). */
  function stopped(code, reason) {
    if (closeAction(code) !== "stop") return false;
    const known = CLOSE_CODES[code];
    hooks.onState("closed", "closed (" + (reason || (known ? known.meaning : "refused")) + ")");
    return true;
  }

  function openWebSocket() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/ws" + hooks.query("websocket"));
    conn = ws;
    let opened = false;
    ws.onopen = function () {
      opened = true;
      wsEverOpened = true;
      wsFailures = 0;
      attempt = 0;
      hooks.onState("connected");
    };
    ws.onmessage = function (e) {
      hooks.onMessage(e.data);
    };
    ws.onclose = function (e) {
      if (conn !== ws) return;
      conn = null;
      if (stopped(e.code, e.reason)) return;
      if (!opened) {
        wsFailures++;
        // Proxies and some networks break WebSockets: after failed opens in a row (more of them
        // once a WebSocket has worked here, since a restarting server looks the same), use SSE.
        if (wsFailures >= (wsEverOpened ? WS_FAILS_AFTER_OPEN : WS_FAILS_BEFORE_SSE)) {
          useTransport("sse");
          attempt = 0;
          connect();
          return;
        }
      }
      scheduleReconnect();
    };
  }

  function openEventSource() {
    const es = new EventSource("/events" + hooks.query("sse"));
    conn = es;
    es.onopen = function () {
      attempt = 0;
      hooks.onState("connected");
    };
    es.onmessage = function (e) {
      hooks.onMessage(e.data);
    };
    // The server ends the stream (shutting down, slow client): reconnect on our own schedule.
    es.addEventListener("close", function (e) {
      if (conn !== es) return;
      es.close();
      conn = null;
      let info = {};
      try {
        info = JSON.parse(e.data);
      } catch (_err) {
        // no details
      }
      if (stopped(info.code, info.reason)) return;
      scheduleReconnect();
    });
    // EventSource would retry by itself (with Last-Event-ID), but without a countdown to show and
    // not after an HTTP error: take over, and resume with ?lastEventId=.
    es.onerror = function () {
      if (conn !== es) return;
      es.close();
      conn = null;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    const delay = base / 2 + Math.random() * base / 2; // jitter: [base/2, base)
    attempt++;
    const until = Date.now() + delay;
    const countdown = function () {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      hooks.onState("reconnecting", "reconnecting in " + left + " s");
    };
    countdown();
    clearInterval(countdownTimer);
    countdownTimer = setInterval(countdown, 250);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  return {
    connect: connect,
    useTransport: useTransport,
    get transport() {
      return transport;
    },
    /** Sends `msg` (an object) when a WebSocket is open; returns whether it went. */
    send(msg) {
      if (conn && transport === "websocket" && conn.readyState === WebSocket.OPEN) {
        conn.send(JSON.stringify(msg));
        return true;
      }
      return false;
    },
    /** Over SSE, the selection is in the URL: start a new stream now. */
    restartStream() {
      if (conn && transport === "sse") {
        conn.close();
        conn = null;
        attempt = 0;
        connect();
      }
    },
  };
}
