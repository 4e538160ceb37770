import assert from "node:assert/strict";
import {
  type Config,
  DEFAULTS,
  endpoint,
  ENV_VARS,
  FORWARDER_DEFAULTS,
  FORWARDER_ENV_VARS,
  FORWARDER_USAGE,
  ingressExposed,
  parseConfig,
  parseForwarderConfig,
  type ParseResult,
  USAGE,
} from "../../src/config/config.ts";
import { LOG_LEVELS } from "../../src/runtime/log.ts";

type Env = Record<string, string>;

function parse(args: string[], env: Env = {}): ParseResult {
  return parseConfig(args, (name) => env[name]);
}

/** Parses and insists on a config. */
function ok(args: string[], env: Env = {}): Config {
  const r = parse(args, env);
  if (r.kind !== "config") assert.fail(`expected a config for ${JSON.stringify(args)}: ${show(r)}`);
  return r.config;
}

/** Parses and insists on an error; returns its message. */
function err(args: string[], env: Env = {}): string {
  const r = parse(args, env);
  if (r.kind !== "error") assert.fail(`expected an error for ${JSON.stringify(args)}: ${show(r)}`);
  assert(r.message.length > 0, "error message is not empty");
  assert(!r.message.includes("\n"), `error is one line: ${r.message}`);
  return r.message;
}

function show(r: ParseResult): string {
  return JSON.stringify(r);
}

/** The security and limit settings when none is given. */
const OFF = {
  nativeIngress: false,
  front: true,
  maxConnections: 20000,
  requestTimeout: 10,
  maxClientsPerIp: 0,
  upgradeRate: 0,
  maxWsMessageBytes: 4096,
  authSecret: null,
  authSecretFile: null,
  tlsCert: null,
  tlsKey: null,
  curveSecretKey: null,
  curveSecretKeyFile: null,
  curveAllow: [],
  curveAllowFile: null,
};

/** Two CURVE key pairs made by `deno task keygen` (test keys, used nowhere else). */
const SERVER_SECRET = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
const PRODUCER_PUBLIC = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SECRET32 = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123";

Deno.test("config: no flags and no env give the defaults", () => {
  const c = ok([]);
  assert.deepEqual(c, {
    port: 8000,
    hostname: "0.0.0.0",
    ingress: "tcp://127.0.0.1:5000",
    reusePort: false,
    demo: true,
    maxMessageBytes: 65536,
    xWindow: 86400,
    allowedHosts: [],
    allowOrigins: [],
    maxClients: 10000,
    history: 1000,
    dataDir: "./data",
    retention: { count: 1000 },
    clientBufferBytes: 1048576,
    slowClientTimeout: 10,
    clientsBufferBudget: 134217728,
    logLevel: "info",
    ...OFF,
  });
  assert.deepEqual(c, { ...DEFAULTS, allowOrigins: [], curveAllow: [] });
  // The default env reader (no second argument) reads nothing.
  const r = parseConfig([]);
  assert.equal(r.kind, "config");
  if (r.kind === "config") assert.deepEqual(r.config, c);
});

Deno.test("config: DEFAULTS is frozen and not shared with results", () => {
  assert(Object.isFrozen(DEFAULTS));
  const a = ok([]);
  a.allowOrigins.push("https://mutated.example");
  assert.deepEqual(DEFAULTS.allowOrigins, []);
  assert.deepEqual(ok([]).allowOrigins, []);
});

Deno.test("config: every flag is read", () => {
  const c = ok([
    "--port",
    "9001",
    "--hostname",
    "127.0.0.1",
    "--ingress",
    "tcp://0.0.0.0:6000",
    "--reuse-port",
    "--no-demo",
    "--max-message-bytes",
    "1024",
    "--native-ingress",
    "--no-front",
    "--max-connections",
    "300",
    "--request-timeout",
    "5",
    "--x-window",
    "600",
    "--allowed-hosts",
    "zws.example,.corp.example",
    "--allow-origin",
    "https://a.example",
    "--allow-origin",
    "http://b.example:8080",
    "--max-clients",
    "5",
    "--history",
    "50",
    "--data-dir",
    "/var/lib/zws",
    "--retention",
    "5000,24h",
    "--client-buffer-bytes",
    "65536",
    "--slow-client-timeout",
    "3",
    "--clients-buffer-budget",
    "2097152",
    "--log-level",
    "debug",
    "--max-clients-per-ip",
    "3",
    "--upgrade-rate",
    "2.5",
    "--max-ws-message-bytes",
    "512",
    "--auth-secret",
    SECRET32,
    "--cert",
    "secrets/zws.crt",
    "--key",
    "secrets/zws.key",
    "--curve-secret-key",
    SERVER_SECRET,
    "--curve-allow",
    PRODUCER_PUBLIC,
    "--curve-allow-file",
    "secrets/producers.allow",
  ]);
  assert.deepEqual(c, {
    port: 9001,
    hostname: "127.0.0.1",
    ingress: "tcp://0.0.0.0:6000",
    reusePort: true,
    demo: false,
    maxMessageBytes: 1024,
    nativeIngress: true,
    front: false,
    maxConnections: 300,
    requestTimeout: 5,
    xWindow: 600,
    allowedHosts: ["zws.example", ".corp.example"],
    allowOrigins: ["https://a.example", "http://b.example:8080"],
    maxClients: 5,
    history: 50,
    dataDir: "/var/lib/zws",
    retention: { count: 5000, ageMs: 86_400_000 },
    clientBufferBytes: 65536,
    slowClientTimeout: 3,
    clientsBufferBudget: 2097152,
    logLevel: "debug",
    maxClientsPerIp: 3,
    upgradeRate: 2.5,
    maxWsMessageBytes: 512,
    authSecret: SECRET32,
    authSecretFile: null,
    tlsCert: "secrets/zws.crt",
    tlsKey: "secrets/zws.key",
    curveSecretKey: SERVER_SECRET,
    curveSecretKeyFile: null,
    curveAllow: [PRODUCER_PUBLIC],
    curveAllowFile: "secrets/producers.allow",
  });
});

Deno.test("config: --flag=value form works", () => {
  const c = ok(["--port=1234", "--log-level=warn", "--allow-origin=https://x.example"]);
  assert.equal(c.port, 1234);
  assert.equal(c.logLevel, "warn");
  assert.deepEqual(c.allowOrigins, ["https://x.example"]);
});

Deno.test("config: ENV_VARS names the documented variables", () => {
  assert.deepEqual(ENV_VARS, {
    port: "PORT",
    hostname: "ZWS_HOSTNAME",
    ingress: "ZWS_INGRESS",
    upstream: "ZWS_UPSTREAM",
    reusePort: "ZWS_REUSE_PORT",
    demo: "ZWS_NO_DEMO",
    maxMessageBytes: "ZWS_MAX_MESSAGE_BYTES",
    nativeIngress: "ZWS_NATIVE_INGRESS",
    front: "ZWS_NO_FRONT",
    maxConnections: "ZWS_MAX_CONNECTIONS",
    requestTimeout: "ZWS_REQUEST_TIMEOUT",
    xWindow: "ZWS_X_WINDOW",
    allowedHosts: "ZWS_ALLOWED_HOSTS",
    allowOrigins: "ZWS_ALLOW_ORIGIN",
    maxClients: "ZWS_MAX_CLIENTS",
    history: "ZWS_HISTORY",
    dataDir: "ZWS_DATA_DIR",
    noPersist: "ZWS_NO_PERSIST",
    retention: "ZWS_RETENTION",
    clientBufferBytes: "ZWS_CLIENT_BUFFER_BYTES",
    slowClientTimeout: "ZWS_SLOW_CLIENT_TIMEOUT",
    clientsBufferBudget: "ZWS_CLIENTS_BUFFER_BUDGET",
    logLevel: "ZWS_LOG_LEVEL",
    maxClientsPerIp: "ZWS_MAX_CLIENTS_PER_IP",
    upgradeRate: "ZWS_UPGRADE_RATE",
    maxWsMessageBytes: "ZWS_MAX_WS_MESSAGE_BYTES",
    authSecret: "ZWS_AUTH_SECRET",
    authSecretFile: "ZWS_AUTH_SECRET_FILE",
    tlsCert: "ZWS_TLS_CERT",
    tlsKey: "ZWS_TLS_KEY",
    curveSecretKey: "ZWS_CURVE_SECRET_KEY",
    curveSecretKeyFile: "ZWS_CURVE_SECRET_KEY_FILE",
    curveAllow: "ZWS_CURVE_ALLOW",
    curveAllowFile: "ZWS_CURVE_ALLOW_FILE",
  });
  for (const name of Object.values(ENV_VARS)) {
    assert(USAGE.includes(name), `USAGE mentions ${name}`);
  }
});

Deno.test("config: every setting falls back to its environment variable", () => {
  const c = ok([], {
    PORT: "8080",
    ZWS_HOSTNAME: "localhost",
    ZWS_INGRESS: "ipc:///tmp/zws.sock",
    ZWS_UPSTREAM: "tcp://10.0.0.9:5001",
    ZWS_REUSE_PORT: "yes",
    ZWS_NO_DEMO: "1",
    ZWS_MAX_MESSAGE_BYTES: "4096",
    ZWS_NATIVE_INGRESS: "1",
    ZWS_NO_FRONT: "1",
    ZWS_MAX_CONNECTIONS: "500",
    ZWS_REQUEST_TIMEOUT: "3",
    ZWS_X_WINDOW: "0",
    ZWS_ALLOWED_HOSTS: "*",
    ZWS_ALLOW_ORIGIN: "https://a.example",
    ZWS_MAX_CLIENTS: "77",
    ZWS_HISTORY: "12",
    ZWS_NO_PERSIST: "1",
    ZWS_RETENTION: "1h",
    ZWS_CLIENT_BUFFER_BYTES: "2048",
    ZWS_SLOW_CLIENT_TIMEOUT: "4",
    ZWS_CLIENTS_BUFFER_BUDGET: "3145728",
    ZWS_LOG_LEVEL: "error",
    ZWS_MAX_CLIENTS_PER_IP: "4",
    ZWS_UPGRADE_RATE: "10",
    ZWS_MAX_WS_MESSAGE_BYTES: "100",
    ZWS_AUTH_SECRET_FILE: "secrets/auth-secret",
    ZWS_TLS_CERT: "secrets/zws.crt",
    ZWS_TLS_KEY: "secrets/zws.key",
    ZWS_CURVE_SECRET_KEY_FILE: "secrets/server.keys",
    ZWS_CURVE_ALLOW: `${PRODUCER_PUBLIC}, ${PRODUCER_PUBLIC.replace("r", "s")}`,
    ZWS_CURVE_ALLOW_FILE: "secrets/producers.allow",
  });
  assert.deepEqual(c, {
    port: 8080,
    hostname: "localhost",
    ingress: "ipc:///tmp/zws.sock",
    upstream: "tcp://10.0.0.9:5001",
    reusePort: true,
    demo: false,
    maxMessageBytes: 4096,
    nativeIngress: true,
    front: false,
    maxConnections: 500,
    requestTimeout: 3,
    xWindow: 0,
    allowedHosts: ["*"],
    allowOrigins: ["https://a.example"],
    maxClients: 77,
    history: 12,
    dataDir: null,
    retention: { count: 12, ageMs: 3_600_000 },
    clientBufferBytes: 2048,
    slowClientTimeout: 4,
    clientsBufferBudget: 3145728,
    logLevel: "error",
    maxClientsPerIp: 4,
    upgradeRate: 10,
    maxWsMessageBytes: 100,
    authSecret: null,
    authSecretFile: "secrets/auth-secret",
    tlsCert: "secrets/zws.crt",
    tlsKey: "secrets/zws.key",
    curveSecretKey: null,
    curveSecretKeyFile: "secrets/server.keys",
    curveAllow: [PRODUCER_PUBLIC, PRODUCER_PUBLIC.replace("r", "s")],
    curveAllowFile: "secrets/producers.allow",
  });
  const inline = ok([], {
    ZWS_AUTH_SECRET: SECRET32,
    ZWS_CURVE_SECRET_KEY: SERVER_SECRET,
    ZWS_CURVE_ALLOW: PRODUCER_PUBLIC,
  });
  assert.equal(inline.authSecret, SECRET32);
  assert.equal(inline.curveSecretKey, SERVER_SECRET);
});

Deno.test("config: env values are trimmed; empty or blank env values mean unset", () => {
  const c = ok([], {
    PORT: "  8081 ",
    ZWS_HOSTNAME: " ::1 ",
    ZWS_LOG_LEVEL: "\twarn\n",
    ZWS_MAX_CLIENTS: "",
    ZWS_MAX_MESSAGE_BYTES: "   ",
    ZWS_INGRESS: "",
    ZWS_ALLOW_ORIGIN: "  ",
  });
  assert.equal(c.port, 8081);
  assert.equal(c.hostname, "::1");
  assert.equal(c.logLevel, "warn");
  assert.equal(c.maxClients, DEFAULTS.maxClients);
  assert.equal(c.maxMessageBytes, DEFAULTS.maxMessageBytes);
  assert.equal(c.ingress, DEFAULTS.ingress);
  assert.deepEqual(c.allowOrigins, []);
});

Deno.test("config: ZWS_ALLOW_ORIGIN is a comma-separated list", () => {
  const c = ok([], {
    ZWS_ALLOW_ORIGIN: "https://a.example, http://b.example:8080 ,,HTTPS://C.EXAMPLE:443,",
  });
  // Trimmed, empty entries skipped, normalized (lowercase host, default port dropped).
  assert.deepEqual(c.allowOrigins, [
    "https://a.example",
    "http://b.example:8080",
    "https://c.example",
  ]);
  const bad = err([], { ZWS_ALLOW_ORIGIN: "https://a.example,not an origin" });
  assert.match(bad, /--allow-origin/);
  assert.match(bad, /not an origin/);
});

Deno.test("config: ZWS_NO_DEMO truthy values turn the demo off, others leave it on", () => {
  for (const v of ["1", "true", "TRUE", "yes", "Yes", "on", " on "]) {
    assert.equal(ok([], { ZWS_NO_DEMO: v }).demo, false, `ZWS_NO_DEMO=${JSON.stringify(v)}`);
  }
  for (const v of ["0", "false", "no", "off", "", "2", "truthy"]) {
    assert.equal(ok([], { ZWS_NO_DEMO: v }).demo, true, `ZWS_NO_DEMO=${JSON.stringify(v)}`);
  }
  assert.equal(ok(["--no-demo"], { ZWS_NO_DEMO: "0" }).demo, false, "the flag wins");
});

Deno.test("config: a flag beats its environment variable", () => {
  const env: Env = {
    PORT: "1111",
    ZWS_HOSTNAME: "10.0.0.1",
    ZWS_INGRESS: "tcp://127.0.0.1:1111",
    ZWS_MAX_MESSAGE_BYTES: "1111",
    ZWS_X_WINDOW: "1111",
    ZWS_ALLOWED_HOSTS: "env.example",
    ZWS_ALLOW_ORIGIN: "https://env-a.example,https://env-b.example",
    ZWS_MAX_CLIENTS: "1111",
    ZWS_HISTORY: "1111",
    ZWS_DATA_DIR: "/env/data",
    ZWS_RETENTION: "1111",
    ZWS_LOG_LEVEL: "error",
  };
  const c = ok([
    "--port",
    "2222",
    "--hostname",
    "10.0.0.2",
    "--ingress",
    "tcp://127.0.0.1:2222",
    "--max-message-bytes",
    "2222",
    "--x-window",
    "2222",
    "--allowed-hosts",
    "flag.example",
    "--allow-origin",
    "https://flag.example",
    "--max-clients",
    "2222",
    "--history",
    "2222",
    "--data-dir",
    "/flag/data",
    "--retention",
    "2222",
    "--log-level",
    "debug",
  ], env);
  assert.deepEqual(c, {
    port: 2222,
    hostname: "10.0.0.2",
    ingress: "tcp://127.0.0.1:2222",
    reusePort: false,
    demo: true,
    maxMessageBytes: 2222,
    xWindow: 2222,
    allowedHosts: ["flag.example"],
    allowOrigins: ["https://flag.example"],
    maxClients: 2222,
    history: 2222,
    dataDir: "/flag/data",
    retention: { count: 2222 },
    clientBufferBytes: 1048576,
    slowClientTimeout: 10,
    clientsBufferBudget: 134217728,
    logLevel: "debug",
    ...OFF,
  });
  // A secret flag beats both env forms (inline and file) of the same setting.
  const sec = ok(["--auth-secret-file", "secrets/a"], {
    ZWS_AUTH_SECRET: SECRET32,
    ZWS_AUTH_SECRET_FILE: "secrets/b",
  });
  assert.equal(sec.authSecret, null);
  assert.equal(sec.authSecretFile, "secrets/a");
});

Deno.test("config: a bad env value is not consulted when the flag is given", () => {
  const c = ok(["--port", "3000"], { PORT: "not-a-number" });
  assert.equal(c.port, 3000);
  assert.equal(ok(["--log-level", "info"], { ZWS_LOG_LEVEL: "loud" }).logLevel, "info");
});

Deno.test("config: --help and -h ask for help, even next to bad values", () => {
  assert.deepEqual(parse(["--help"]), { kind: "help" });
  assert.deepEqual(parse(["-h"]), { kind: "help" });
  assert.deepEqual(parse(["--port", "nope", "--help"]), { kind: "help" });
  assert.deepEqual(parse(["--help"], { PORT: "nope" }), { kind: "help" });
});

Deno.test("config: USAGE documents every flag", () => {
  for (
    const flag of [
      "--port",
      "--hostname",
      "--ingress",
      "--no-demo",
      "--max-message-bytes",
      "--allow-origin",
      "--max-clients",
      "--log-level",
      "--help",
      "-h",
      "--max-clients-per-ip",
      "--upgrade-rate",
      "--max-ws-message-bytes",
      "--auth-secret",
      "--auth-secret-file",
      "--cert",
      "--key",
      "--curve-secret-key",
      "--curve-secret-key-file",
      "--curve-allow",
      "--curve-allow-file",
    ]
  ) assert(USAGE.includes(flag), `USAGE mentions ${flag}`);
});

Deno.test("config: unknown flags, positionals and malformed flags are errors", () => {
  assert.match(err(["--bogus"]), /bogus/);
  assert.match(err(["-x"]), /-x/);
  assert.match(err(["serve"]), /serve/);
  assert.match(err(["--port"]), /--port/); // missing value
  assert.match(err(["--port", "-1"]), /--port/); // looks like a flag
  assert.match(err(["--no-demo=yes"]), /no-demo/); // boolean takes no value
  assert.match(err(["--help=1"]), /help/);
});

Deno.test("config: --port accepts 0..65535 whole numbers only", () => {
  assert.equal(ok(["--port", "0"]).port, 0);
  assert.equal(ok(["--port", "1"]).port, 1);
  assert.equal(ok(["--port", "65535"]).port, 65535);
  assert.equal(ok(["--port", "0080"]).port, 80);
  for (const bad of ["65536", "99999999999999999999999"]) {
    assert.match(err(["--port", bad]), /--port must be between 0 and 65535/, bad);
  }
  for (const bad of ["abc", "1.5", "1e3", "0x10", "+80", " 80", "80 ", "", "８０", "=-1"]) {
    assert.match(err(["--port", bad]), /--port must be a whole number/, JSON.stringify(bad));
  }
  assert.match(err(["--port=-1"]), /--port must be a whole number/);
  assert.match(err([], { PORT: "http" }), /--port must be a whole number/);
  assert.match(err([], { PORT: "70000" }), /between 0 and 65535/);
});

Deno.test("config: --max-message-bytes accepts 64..64 MiB", () => {
  assert.equal(ok(["--max-message-bytes", "64"]).maxMessageBytes, 64);
  assert.equal(ok(["--max-message-bytes", String(64 * 1024 * 1024)]).maxMessageBytes, 67108864);
  assert.match(err(["--max-message-bytes", "63"]), /--max-message-bytes must be between 64 and/);
  assert.match(err(["--max-message-bytes", "0"]), /--max-message-bytes must be between/);
  assert.match(err(["--max-message-bytes", "67108865"]), /--max-message-bytes must be between/);
  assert.match(err(["--max-message-bytes", "64k"]), /--max-message-bytes must be a whole number/);
  assert.match(err([], { ZWS_MAX_MESSAGE_BYTES: "-5" }), /--max-message-bytes must be a whole/);
});

Deno.test("config: --max-clients accepts 1..1000000", () => {
  assert.equal(ok(["--max-clients", "1"]).maxClients, 1);
  assert.equal(ok(["--max-clients", "1000000"]).maxClients, 1_000_000);
  assert.match(err(["--max-clients", "0"]), /--max-clients must be between 1 and 1000000, got 0/);
  assert.match(err(["--max-clients", "1000001"]), /--max-clients must be between/);
  assert.match(err(["--max-clients", "1_000"]), /--max-clients must be a whole number/);
  assert.match(err([], { ZWS_MAX_CLIENTS: "many" }), /--max-clients must be a whole number/);
});

Deno.test("config: --hostname accepts names and addresses, unwraps [IPv6]", () => {
  assert.equal(ok(["--hostname", "localhost"]).hostname, "localhost");
  assert.equal(ok(["--hostname", "my-host.example.com"]).hostname, "my-host.example.com");
  assert.equal(ok(["--hostname", "::"]).hostname, "::");
  assert.equal(ok(["--hostname", "::1"]).hostname, "::1");
  assert.equal(ok(["--hostname", "[::1]"]).hostname, "::1");
  assert.equal(ok(["--hostname", "[fe80::1]"]).hostname, "fe80::1");
  for (const bad of ["", "local host", "host/path", "a;b", "ho$t", "http://x"]) {
    assert.match(err(["--hostname", bad]), /--hostname is not a host/, JSON.stringify(bad));
  }
  assert.match(err([], { ZWS_HOSTNAME: "bad host" }), /--hostname is not a host/);
});

Deno.test("config: --ingress accepts tcp, ipc and inproc endpoints", () => {
  for (
    const good of [
      "tcp://127.0.0.1:5000",
      "tcp://0.0.0.0:1",
      "tcp://*:5000",
      "tcp://127.0.0.1:*",
      "tcp://localhost:65535",
      "tcp://[::1]:5000",
      "tcp://[::ffff:127.0.0.1]:5000",
      "ipc:///tmp/zws.sock",
      "ipc://relative",
      "inproc://bus",
    ]
  ) {
    assert.equal(endpoint(good), good);
    assert.equal(ok(["--ingress", good]).ingress, good);
  }
});

Deno.test("config: bad --ingress forms are errors", () => {
  for (
    const bad of [
      "",
      "127.0.0.1:5000",
      "tcp://127.0.0.1",
      "tcp://127.0.0.1:",
      "tcp://:5000",
      "tcp://127.0.0.1:abc",
      "tcp://127.0.0.1:123456",
      "tcp://127.0.0.1:5000/path",
      "tcp://::1:5000",
      "tcp://host name:5000",
      " tcp://127.0.0.1:5000",
      "udp://127.0.0.1:5000",
      "http://127.0.0.1:5000",
      "TCP://127.0.0.1:5000",
      "ipc://",
      "inproc://",
      "ipc://has space",
    ]
  ) {
    assert.throws(() => endpoint(bad), /--ingress/, JSON.stringify(bad));
    assert.match(err(["--ingress", bad]), /--ingress/, JSON.stringify(bad));
  }
  // A port with five digits above 65535 has its own message.
  assert.throws(() => endpoint("tcp://127.0.0.1:65536"), /--ingress port out of range/);
  assert.throws(() => endpoint("tcp://127.0.0.1:99999"), /--ingress port out of range/);
  assert.match(err([], { ZWS_INGRESS: "nonsense" }), /--ingress must look like/);
});

Deno.test("config: --allow-origin normalizes good origins", () => {
  const c = ok([
    "--allow-origin",
    "https://example.com",
    "--allow-origin",
    "https://example.com/",
    "--allow-origin",
    "HTTP://Example.ORG:80",
    "--allow-origin",
    "http://localhost:3000",
    "--allow-origin",
    "http://[::1]:8000",
    "--allow-origin",
    "  https://padded.example  ",
  ]);
  assert.deepEqual(c.allowOrigins, [
    "https://example.com",
    "https://example.com",
    "http://example.org",
    "http://localhost:3000",
    "http://[::1]:8000",
    "https://padded.example",
  ]);
  // An empty flag value adds nothing.
  assert.deepEqual(ok(["--allow-origin", ""]).allowOrigins, []);
});

Deno.test("config: bad origins are errors", () => {
  for (
    const bad of [
      "example.com",
      "localhost:8000",
      "*",
      "null",
      "https://example.com/path",
      "https://example.com/index.html",
      "file:///etc/passwd",
      "data:text/html,hi",
      "javascript:alert(1)",
      "custom-scheme://host",
      "https://",
      "https://example.com?x=1",
      "https://example.com#top",
      "https://user:pw@example.com",
    ]
  ) {
    const m = err(["--allow-origin", bad]);
    assert.match(m, /--allow-origin is not an origin/, JSON.stringify(bad));
    assert.match(m, /expected e\.g\. https:\/\/example\.com/);
  }
});

Deno.test("config: every log level is accepted, anything else is an error", () => {
  for (const level of LOG_LEVELS) {
    assert.equal(ok(["--log-level", level]).logLevel, level);
    assert.equal(ok([], { ZWS_LOG_LEVEL: level }).logLevel, level);
  }
  assert.deepEqual([...LOG_LEVELS], ["debug", "info", "warn", "error"]);
  for (const bad of ["DEBUG", "Info", "warning", "trace", "fatal", "", "0"]) {
    const m = err(["--log-level", bad]);
    assert.match(m, /--log-level must be one of debug, info, warn, error/, JSON.stringify(bad));
  }
  assert.match(err([], { ZWS_LOG_LEVEL: "verbose" }), /got "verbose"/);
});

Deno.test("config: the first bad value is reported, and the message quotes it", () => {
  const m = err(["--port", "x1", "--max-clients", "0"]);
  assert.match(m, /--port/);
  assert.match(m, /"x1"/);
});

Deno.test("config: parseConfig never mutates its args", () => {
  const args = Object.freeze(["--port", "1", "--no-demo"]);
  const r = parseConfig(args);
  assert.equal(r.kind, "config");
  assert.deepEqual(args, ["--port", "1", "--no-demo"]);
});

Deno.test("config: --history, --client-buffer-bytes and --slow-client-timeout are bounded", () => {
  assert.match(err(["--history", "0"]), /--history must be between 1 and 1000000/);
  assert.match(err(["--client-buffer-bytes", "10"]), /--client-buffer-bytes must be between 1024/);
  assert.match(
    err(["--clients-buffer-budget", "1000"]),
    /--clients-buffer-budget must be between 1048576/,
  );
  assert.match(err(["--slow-client-timeout", "0"]), /--slow-client-timeout must be between 1/);
  assert.match(err([], { ZWS_HISTORY: "lots" }), /--history must be a whole number/);
});

Deno.test("config: security flags are checked, and secrets never appear in messages", () => {
  const short = "short-secret-value";
  const m1 = err(["--auth-secret", short]);
  assert.match(m1, /--auth-secret must be at least 32 bytes/);
  assert(!m1.includes(short), "the secret is not echoed");
  const m2 = err([], { ZWS_AUTH_SECRET: short });
  assert(!m2.includes(short));
  assert.match(err(["--auth-secret", SECRET32, "--auth-secret-file", "x"]), /not both/);
  assert.match(
    err([], { ZWS_AUTH_SECRET: SECRET32, ZWS_AUTH_SECRET_FILE: "x" }),
    /ZWS_AUTH_SECRET or ZWS_AUTH_SECRET_FILE, not both/,
  );
  const badKey = SERVER_SECRET.slice(0, 39) + ",";
  const m3 = err(["--curve-secret-key", badKey, "--curve-allow", PRODUCER_PUBLIC]);
  assert.match(m3, /not a CURVE key/);
  assert(!m3.includes(badKey.slice(0, 20)), "the key is not echoed");
  assert.match(err(["--curve-secret-key", SERVER_SECRET]), /allow-list/);
  assert.match(err(["--curve-allow", PRODUCER_PUBLIC]), /needs --curve-secret-key/);
  assert.match(
    err(["--curve-secret-key", SERVER_SECRET, "--curve-allow", "nope"]),
    /--curve-allow value 1 is not a CURVE public key/,
  );
  assert.match(err(["--cert", "a.pem"]), /--cert and --key go together/);
  assert.match(err(["--key", "a.pem"]), /--cert and --key go together/);
  assert.match(err(["--upgrade-rate=-1"]), /--upgrade-rate must be a number >= 0/);
  assert.match(err(["--upgrade-rate", "1e3"]), /--upgrade-rate/);
  assert.match(err(["--max-clients-per-ip", "x"]), /--max-clients-per-ip must be a whole number/);
  assert.match(err(["--max-ws-message-bytes", "10"]), /between 64 and/);
  // Z85 keys may start with "-": parseArgs then wants --flag=KEY; the hint says so, without the key.
  const dashKey = "-" + SERVER_SECRET.slice(1);
  const m4 = err(["--curve-secret-key", dashKey, "--curve-allow", PRODUCER_PUBLIC]);
  assert.equal(
    m4,
    '--curve-secret-key: a value that starts with "-" needs the form --curve-secret-key=VALUE',
  );
  // The file forms are enough for CURVE (contents are checked when loaded).
  const c = ok(["--curve-secret-key-file", "s.keys", "--curve-allow-file", "p.allow"]);
  assert.equal(c.curveSecretKeyFile, "s.keys");
  assert.equal(c.curveAllowFile, "p.allow");
});

Deno.test("ingressExposed: loopback, ipc and inproc stay local; anything else is exposed", () => {
  for (
    const ep of [
      "tcp://127.0.0.1:5000",
      "tcp://127.1.2.3:*",
      "tcp://localhost:5000",
      "tcp://LOCALHOST:5000",
      "tcp://[::1]:5000",
      "ipc:///tmp/zws.sock",
      "inproc://x",
    ]
  ) assert.equal(ingressExposed(ep), false, ep);
  for (
    const ep of [
      "tcp://0.0.0.0:5000",
      "tcp://*:5000",
      "tcp://192.0.2.7:5000",
      "tcp://[::]:5000",
      "tcp://eth0:5000",
      "tcp://example.com:*",
    ]
  ) assert.equal(ingressExposed(ep), true, ep);
});

// --- The forwarder's flags (`zws relay`). ---

function fwd(args: string[], env: Env = {}) {
  return parseForwarderConfig(args, (name) => env[name]);
}

Deno.test("forwarder config: defaults, every flag, and env fallbacks", () => {
  assert.deepEqual(fwd([]), { kind: "config", config: { ...FORWARDER_DEFAULTS } });
  assert.deepEqual(
    fwd([
      "--ingress",
      "tcp://0.0.0.0:6000",
      "--egress",
      "tcp://0.0.0.0:6001",
      "--state-file",
      "/var/lib/zws/state.json",
      "--port",
      "9100",
      "--hostname",
      "0.0.0.0",
      "--no-demo",
      "--max-message-bytes",
      "1024",
      "--native-ingress",
      "--log-level",
      "warn",
    ]),
    {
      kind: "config",
      config: {
        ingress: "tcp://0.0.0.0:6000",
        egress: "tcp://0.0.0.0:6001",
        stateFile: "/var/lib/zws/state.json",
        port: 9100,
        hostname: "0.0.0.0",
        demo: false,
        maxMessageBytes: 1024,
        nativeIngress: true,
        logLevel: "warn",
        dataDir: null,
        retention: { count: 1000 },
      },
    },
  );
  assert.deepEqual(fwd(["--data-dir", "/var/lib/zws/relay", "--retention", "10,7d"]), {
    kind: "config",
    config: {
      ...FORWARDER_DEFAULTS,
      dataDir: "/var/lib/zws/relay",
      retention: { count: 10, ageMs: 7 * 86_400_000 },
    },
  });
  assert.deepEqual(fwd(["--no-persist"]), {
    kind: "config",
    config: { ...FORWARDER_DEFAULTS, dataDir: null },
  });
  assert.match(
    (fwd(["--state-file", "s.json", "--data-dir", "d"]) as { message: string }).message,
    /--state-file and --data-dir/,
  );
  assert.equal(ok(["--data-dir", "d"], { ZWS_NO_PERSIST: "1" }).dataDir, "d", "the flag wins");
  assert.equal(ok(["--no-persist"], { ZWS_DATA_DIR: "d" }).dataDir, null, "the flag wins");
  assert.match(
    (fwd(["--retention", "soon"]) as { message: string }).message,
    /--retention: "soon" is neither a count nor an age/,
  );
  const env = {
    ZWS_INGRESS: "ipc:///tmp/in",
    ZWS_EGRESS: "tcp://127.0.0.1:7001",
    ZWS_FORWARDER_UPSTREAM: "tcp://10.0.0.1:5001",
    ZWS_FORWARDER_PORT: "7002",
    ZWS_FORWARDER_HOSTNAME: "::1",
    ZWS_NO_DEMO: "1",
    ZWS_MAX_MESSAGE_BYTES: "2048",
    ZWS_NATIVE_INGRESS: "1",
    ZWS_STATE_FILE: "s.json",
    ZWS_LOG_LEVEL: "debug",
    // A gateway's settings in a shared environment do not leak into the forwarder.
    PORT: "8000",
    ZWS_UPSTREAM: "tcp://127.0.0.1:5001",
  };
  assert.deepEqual(fwd([], env), {
    kind: "config",
    config: {
      ingress: "ipc:///tmp/in",
      egress: "tcp://127.0.0.1:7001",
      upstream: "tcp://10.0.0.1:5001",
      port: 7002,
      hostname: "::1",
      demo: false,
      maxMessageBytes: 2048,
      nativeIngress: true,
      stateFile: "s.json",
      logLevel: "debug",
      dataDir: null,
      retention: { count: 1000 },
    },
  });
  for (const name of Object.values(FORWARDER_ENV_VARS)) {
    assert(FORWARDER_USAGE.includes(name), `FORWARDER_USAGE mentions ${name}`);
  }
});

Deno.test("forwarder config: bad and conflicting flags are one-line errors", () => {
  const e = (args: string[]) => {
    const r = fwd(args);
    if (r.kind !== "error") assert.fail(`expected an error for ${JSON.stringify(args)}`);
    assert(!r.message.includes("\n"));
    return r.message;
  };
  assert.match(e(["--egress", "5001"]), /--egress must look like/);
  assert.match(e(["--upstream", "tcp://127.0.0.1:*"]), /--upstream needs a port/);
  assert.match(e(["--upstream", "tcp://h:1", "--ingress", "tcp://h:2"]), /exclude each other/);
  assert.match(e(["--upstream", "tcp://h:1", "--state-file", "x"]), /exclude each other/);
  assert.match(e(["--upstream", "tcp://h:1", "--egress", "tcp://h:1"]), /same endpoint/);
  assert.match(e(["--port", "70000"]), /--port/);
  assert.match(e(["--bogus"]), /bogus/);
  assert.deepEqual(fwd(["-h"]), { kind: "help" });
});

Deno.test("config: --upstream makes a gateway; it excludes --ingress and needs a port", () => {
  const c = ok(["--upstream", "tcp://10.0.0.1:5001", "--reuse-port"]);
  assert.equal(c.upstream, "tcp://10.0.0.1:5001");
  assert.equal(c.reusePort, true);
  assert.match(err(["--upstream", "tcp://10.0.0.1:5001", "--ingress", "tcp://h:1"]), /exclude/);
  assert.match(err(["--upstream", "tcp://10.0.0.1:*"]), /--upstream needs a port/);
  assert.match(err(["--upstream", "10.0.0.1:5001"]), /--upstream must look like/);
  assert.equal(ok([]).upstream, undefined);
  assert(USAGE.includes("--upstream") && USAGE.includes("--reuse-port"));
});

Deno.test("forwarder config: a flag value that starts with '-' gets the same hint as the server's", () => {
  assert.deepEqual(fwd(["--state-file", "-x.json"]), {
    kind: "error",
    message: '--state-file: a value that starts with "-" needs the form --state-file=VALUE',
  });
  assert.deepEqual(fwd(["--state-file=-x.json", "--no-demo"]).kind, "config");
});

Deno.test("config: --x-window takes seconds 0..100 years, --allowed-hosts host names", () => {
  assert.equal(ok(["--x-window", "0"]).xWindow, 0);
  assert.match(err(["--x-window=-1"]), /--x-window must be a whole number/);
  assert.match(err(["--x-window", String(101 * 365 * 86400)]), /--x-window must be between/);
  assert.deepEqual(ok(["--allowed-hosts", "A.Example.,b.example"]).allowedHosts, [
    "a.example",
    "b.example",
  ]);
  assert.match(err(["--allowed-hosts", "http://a.example/"]), /--allowed-hosts: .* not a host/);
});
