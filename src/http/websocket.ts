/**
 * `/ws`: the WebSocket upgrade (once `src/http/handler.ts` has done its checks), the socket as a hub
 * client's transport, and the policing of what a client sends: a message rate (burst twice the
 * rate per second: 1008), a size limit (1009), text JSON only (1003, 1007). Valid messages are
 * `ping` (answered with `pong`), `series` (a new selection, applied by the hub) and `rate` (a
 * decimated stream, or the exact one again).
 *
 * @module
 */
import type { AcceptOptions, Client, ClientOptions, ClientTransport } from "../hub/client.ts";
import {
  type ClientMessage,
  type ClientMessageError,
  parseClientMessage,
} from "../protocol/client_messages.ts";
import { resumeFromUrl, type ResumeRequest } from "../protocol/resume.ts";
import { RateLimitedLog } from "../runtime/log.ts";
import { CLOSE } from "../protocol/close_codes.ts";

/**
 * How long an upgraded socket may take to open before its slot is given back, in ms: Deno fires
 * no event at all for a client that resets before reading the 101 (docs/upstream/README.md).
 */
export const OPEN_TIMEOUT_MS = 5000;

/** WebSocket close code for a client that sends messages too fast. */
export const CLOSE_MESSAGE_FLOOD = CLOSE.policy;

/** Limits on what one WebSocket client may send. */
export interface ClientMessageLimits {
  /** Messages per second a client may send (burst twice that). */
  messageRate: number;
  /** Largest message a client may send, in bytes; a larger one closes it with 1009. */
  maxMessageBytes: number;
}

/** What the WebSocket side needs from the hub. */
export interface WebSocketHub {
  /** Limits on client messages. */
  readonly messageLimits: ClientMessageLimits;
  /** Adds a client (hello, history, then live data). */
  addClient(transport: ClientTransport, resume?: ResumeRequest, opts?: ClientOptions): Client;
  /** Forgets a client whose connection ended. */
  removeClient(client: Client): void;
  /** Changes the series a client receives (undefined: all it may see). */
  setSeries(client: Client, select: ReadonlySet<string> | undefined): void;
  /** Puts a client on a decimated stream of `rate` points/s per series (null: exact again). */
  setRate(client: Client, rate: number | null): void;
  /** Closes a client for what it sent (`code`, `reason`), and counts it. */
  refuse(client: Client, code: number, reason: string): void;
}

/** A WebSocket as a {@link ClientTransport} (methods on the prototype: no closures per client). */
export class WebSocketTransport implements ClientTransport {
  readonly kind = "websocket";
  constructor(readonly socket: WebSocket) {}
  send(frame: string): void {
    this.socket.send(frame);
  }
  bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }
  close(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } catch { /* already closing */ }
  }
}

/** A client's message-rate window: its start (ms) and the messages in it. */
export interface MessageWindow {
  start: number;
  count: number;
}

/**
 * Checks one message from a client against `limits` at time `now` (ms; `window` is updated):
 * the parsed message, or the close code and reason to refuse it with.
 */
export function policeMessage(
  window: MessageWindow,
  data: unknown,
  limits: ClientMessageLimits,
  now: number,
): ClientMessage | ClientMessageError | { code: typeof CLOSE_MESSAGE_FLOOD; reason: string } {
  if (now - window.start > 1000) {
    window.start = now;
    window.count = 0;
  }
  if (++window.count > 2 * limits.messageRate) {
    return { code: CLOSE_MESSAGE_FLOOD, reason: "message rate limit exceeded" };
  }
  return parseClientMessage(data, limits.maxMessageBytes);
}

const rateLog = new RateLimitedLog(5000);

function onClientMessage(hub: WebSocketHub, client: Client, win: MessageWindow, data: unknown) {
  const msg = policeMessage(win, data, hub.messageLimits, performance.now());
  if ("code" in msg) {
    rateLog.log(
      "info",
      "bridge",
      "client-protocol",
      `closed client ${client.session.slice(0, 8)}: ${msg.reason} (${msg.code})`,
    );
    hub.refuse(client, msg.code, msg.reason);
    return;
  }
  if (msg.type === "ping") client.transport.send('{"type":"pong"}');
  else if (msg.type === "series") {
    hub.setSeries(client, msg.only === null ? undefined : new Set(msg.only));
  } else if (msg.type === "rate") hub.setRate(client, msg.maxPointsPerS);
}

/** How often the sockets not yet open are checked against their deadline, in ms. */
const OPEN_SWEEP_MS = 250;

/**
 * Upgraded sockets not open yet, checked by one timer that runs only while there are any (a timer
 * per socket kept about 0.3 KB of heap each under Deno even once cleared).
 */
const awaitingOpen = new (class AwaitingOpen {
  #sessions = new Set<WebSocketSession>();
  #timer: ReturnType<typeof setInterval> | undefined;

  add(s: WebSocketSession): void {
    this.#sessions.add(s);
    this.#timer ??= setInterval(() => this.#sweep(), OPEN_SWEEP_MS);
  }

  delete(s: WebSocketSession): void {
    this.#sessions.delete(s);
    if (this.#sessions.size === 0) this.#stop();
  }

  #sweep(): void {
    const now = performance.now();
    for (const s of this.#sessions) {
      if (now < s.openBy) continue;
      this.#sessions.delete(s);
      s.openTimedOut();
    }
    if (this.#sessions.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
})();

/**
 * One upgraded socket's life: it opens into a hub client, its messages are policed, and its slot
 * is given back once. One object per socket with its handlers on the prototype (`handleEvent`):
 * under Deno 2.9.6 each `on<event>` handler costs about 0.5 KB per socket, and the closures that
 * were here 1 KB more (V8 heap per connected client 6.7 -> 5.1 KB; `docs/scaling.md`).
 *
 * Deno always follows an `error` event with a `close` event (its `ext/websocket`), so `close`
 * alone ends the client. A socket that never opens fires neither (docs/upstream/README.md): its
 * slot comes back after {@link OPEN_TIMEOUT_MS} (and at most {@link OPEN_SWEEP_MS} more).
 */
class WebSocketSession implements EventListenerObject {
  #client: Client | undefined;
  #closedEarly = false;
  #win: MessageWindow = { start: 0, count: 0 };
  /** When it must have opened (`performance.now()` time). */
  readonly openBy = performance.now() + OPEN_TIMEOUT_MS;

  constructor(
    readonly hub: WebSocketHub,
    readonly transport: WebSocketTransport,
    readonly resume: ResumeRequest,
    readonly allowed: ReadonlySet<string> | undefined,
    readonly opts: AcceptOptions,
  ) {
    awaitingOpen.add(this);
  }

  /** Whatever Deno reports (or not), a socket that has not opened in time gives its slot back. */
  openTimedOut(): void {
    if (this.#client || this.#closedEarly) return;
    this.#closedEarly = true;
    this.opts.onClose?.();
    this.transport.close(CLOSE.going_away, "not opened in time");
  }

  handleEvent(e: Event): void {
    if (e.type === "message") {
      if (this.#client) {
        onClientMessage(this.hub, this.#client, this.#win, (e as MessageEvent).data);
      }
    } else if (e.type === "open") this.#opened();
    else if (e.type === "close") this.#ended();
  }

  #opened(): void {
    awaitingOpen.delete(this);
    if (this.#closedEarly) return;
    this.#win.start = performance.now();
    this.#client = this.hub.addClient(this.transport, this.resume, {
      allowed: this.allowed,
      select: this.opts.select,
      expiresAt: this.opts.expiresAt,
      onClose: this.opts.onClose,
    });
  }

  #ended(): void {
    awaitingOpen.delete(this);
    if (this.#client) this.hub.removeClient(this.#client);
    else if (!this.#closedEarly) {
      this.#closedEarly = true;
      this.opts.onClose?.();
    }
  }
}

/**
 * Upgrades `req` to a WebSocket client of `hub` (checks are the caller's job). Throws (after
 * calling `opts.onClose`) when `req` is not a valid upgrade.
 */
export function acceptWebSocket(
  hub: WebSocketHub,
  req: Request,
  opts: AcceptOptions = {},
): Response {
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
  } catch (err) {
    opts.onClose?.();
    throw err;
  }
  const { socket, response } = upgraded;
  const session = new WebSocketSession(
    hub,
    new WebSocketTransport(socket),
    resumeFromUrl(new URL(req.url)),
    opts.series ? new Set(opts.series) : undefined,
    opts,
  );
  socket.addEventListener("open", session);
  socket.addEventListener("message", session);
  socket.addEventListener("close", session);
  return response;
}
