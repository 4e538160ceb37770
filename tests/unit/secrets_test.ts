import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { type Config, parseConfig } from "../../src/config/config.ts";
import { loadSecrets, NO_SECRETS, type ReadTextFile } from "../../src/config/secrets.ts";
import { formatKeyFile } from "../../src/zmq/curve.ts";

function config(args: string[]): Config {
  const r = parseConfig(args);
  if (r.kind !== "config") throw new Error(`bad test flags: ${JSON.stringify(r)}`);
  return r.config;
}

/** A reader over an in-memory file system; `errors` maps paths to what reading them throws. */
function files(fs: Record<string, string>, errors: Record<string, Error> = {}): ReadTextFile {
  return (path) => {
    if (errors[path]) return Promise.reject(errors[path]);
    if (path in fs) return Promise.resolve(fs[path]);
    return Promise.reject(new Deno.errors.NotFound(`No such file or directory: ${path}`));
  };
}

/** Asserts loading fails with a message matching `re` that contains none of `hidden`. */
async function fails(c: Config, read: ReadTextFile, re: RegExp, hidden: string[] = []) {
  await assert.rejects(loadSecrets(c, read), (err: Error) => {
    assert.match(err.message, re);
    assert(!err.message.includes("\n"), "one line");
    for (const h of hidden) assert(!err.message.includes(h), "no secret in the message");
    return true;
  });
}

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

Deno.test("secrets: nothing configured loads nothing", async () => {
  assert.deepEqual(await loadSecrets(config([]), files({})), NO_SECRETS);
});

Deno.test("secrets: auth secret inline or from a file (trimmed)", async () => {
  const inline = await loadSecrets(config(["--auth-secret", "x".repeat(32)]), files({}));
  assert.deepEqual(inline.authSecret, new TextEncoder().encode("x".repeat(32)));
  const secret = "file-secret-file-secret-file-secret";
  const fromFile = await loadSecrets(
    config(["--auth-secret-file", "secrets/a"]),
    files({ "secrets/a": `  ${secret}\n` }),
  );
  assert.deepEqual(fromFile.authSecret, new TextEncoder().encode(secret));
  await fails(
    config(["--auth-secret-file", "secrets/a"]),
    files({ "secrets/a": "too-short\n" }),
    /--auth-secret-file secrets\/a: the secret must be at least 32 bytes/,
    ["too-short"],
  );
  await fails(
    config(["--auth-secret-file", "nope"]),
    files({}),
    /cannot read .* nope: no such file/,
  );
});

Deno.test("secrets: unreadable files get one clear line naming flag and path", async () => {
  const read = files({}, {
    "/etc/zws/secret": new Deno.errors.NotCapable('Requires read access to "/etc/zws/secret"'),
    "secrets/locked": new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
    "secrets/dir": new Deno.errors.IsADirectory("Is a directory (os error 21)"),
  });
  await fails(
    config(["--auth-secret-file", "/etc/zws/secret"]),
    read,
    /cannot read --auth-secret-file \/etc\/zws\/secret: no read permission: .*\.\/secrets\//,
  );
  await fails(
    config(["--cert", "secrets/locked", "--key", "k"]),
    read,
    /cannot read --cert secrets\/locked: permission denied by the file system/,
  );
  await fails(config(["--auth-secret-file", "secrets/dir"]), read, /is a directory/);
});

Deno.test("secrets: TLS certificate and key must be PEM", async () => {
  const flags = ["--cert", "c.pem", "--key", "k.pem"];
  const ok = await loadSecrets(config(flags), files({ "c.pem": CERT, "k.pem": KEY }));
  assert.deepEqual(ok.tls, { cert: CERT, key: KEY });
  const ec = KEY.replaceAll("PRIVATE KEY", "EC PRIVATE KEY");
  assert((await loadSecrets(config(flags), files({ "c.pem": CERT, "k.pem": ec }))).tls);
  await fails(
    config(flags),
    files({ "c.pem": "hello", "k.pem": KEY }),
    /--cert c.pem is not a PEM certificate/,
  );
  await fails(
    config(flags),
    files({ "c.pem": CERT, "k.pem": "secret-junk" }),
    /--key k.pem is not a PEM private key/,
    ["secret-junk"],
  );
});

Deno.test("secrets: CURVE keys from flags and files; the server's public key is derived", async () => {
  const server = zmq.curveKeyPair();
  const p1 = zmq.curveKeyPair();
  const p2 = zmq.curveKeyPair();
  const inline = await loadSecrets(
    config([`--curve-secret-key=${server.secretKey}`, `--curve-allow=${p1.publicKey}`]),
    files({}),
  );
  assert.deepEqual(inline.curve, {
    secretKey: server.secretKey,
    publicKey: server.publicKey,
    allow: [p1.publicKey],
  });
  const fromFiles = await loadSecrets(
    config([
      "--curve-secret-key-file",
      "secrets/server.keys",
      `--curve-allow=${p1.publicKey}`,
      "--curve-allow-file",
      "secrets/producers.allow",
    ]),
    files({
      "secrets/server.keys": formatKeyFile(server),
      "secrets/producers.allow": `# two\n${p2.publicKey}\npublic-key = ${p1.publicKey}\n`,
    }),
  );
  assert.deepEqual(fromFiles.curve, {
    secretKey: server.secretKey,
    publicKey: server.publicKey,
    allow: [p1.publicKey, p2.publicKey], // de-duplicated
  });
});

Deno.test("secrets: CURVE mistakes are refused without showing keys", async () => {
  const server = zmq.curveKeyPair();
  const p1 = zmq.curveKeyPair();
  const keyFlags = ["--curve-secret-key-file", "s.keys", "--curve-allow-file", "p.allow"];
  await fails(
    config(keyFlags),
    files({ "s.keys": `public-key = ${server.publicKey}\n`, "p.allow": p1.publicKey }),
    /s.keys holds no secret key/,
  );
  await fails(
    config(keyFlags),
    files({ "s.keys": "secret-key = garbage", "p.allow": p1.publicKey }),
    /--curve-secret-key-file s.keys: line 1 is not a CURVE key/,
    ["garbage"],
  );
  await fails(
    config(keyFlags),
    files({ "s.keys": formatKeyFile(server), "p.allow": formatKeyFile(p1) }),
    /--curve-allow-file p.allow: line 3 is a secret key/,
    [p1.secretKey, server.secretKey],
  );
  await fails(
    config(keyFlags),
    files({ "s.keys": formatKeyFile(server), "p.allow": "# nobody yet\n" }),
    /allow-list is empty/,
  );
  await fails(
    config([`--curve-secret-key=${server.secretKey}`, `--curve-allow=${server.publicKey}`]),
    files({}),
    /server's own public key/,
    [server.secretKey],
  );
});
