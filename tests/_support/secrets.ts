/**
 * Secret files for tests: a scratch directory under `./secrets/` and a throwaway TLS certificate.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** A scratch directory under `./secrets/` (the one place `deno task start` may read files from). */
export interface SecretsDir {
  /** Path relative to the project root, for flags: `secrets/.test-…`. */
  rel: string;
  /** Writes a file in it (mode 0600) and returns its relative path. */
  write(name: string, text: string): Promise<string>;
  /** Removes it (and `./secrets/` if this made it and it is empty now). */
  remove(): Promise<void>;
}

/** Makes a {@link SecretsDir}. */
export async function makeSecretsDir(): Promise<SecretsDir> {
  const root = new URL("secrets/", ROOT);
  let madeRoot = false;
  try {
    await Deno.mkdir(root, { mode: 0o700 });
    madeRoot = true;
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  const name = `.test-${crypto.randomUUID().slice(0, 8)}`;
  const dir = new URL(`${name}/`, root);
  await Deno.mkdir(dir, { mode: 0o700 });
  return {
    rel: `secrets/${name}`,
    async write(file, text) {
      await Deno.writeTextFile(new URL(file, dir), text, { mode: 0o600 });
      return `secrets/${name}/${file}`;
    },
    async remove() {
      await Deno.remove(dir, { recursive: true });
      if (madeRoot) await Deno.remove(root).catch(() => {});
    },
  };
}

/** A CA-less self-signed certificate for localhost/127.0.0.1 (rustls needs CA:FALSE). */
export async function makeCertificate(dir: string): Promise<void> {
  const openssl = new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      `${dir}/zws.key`,
      "-out",
      `${dir}/zws.crt`,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  });
  let out: Deno.CommandOutput;
  try {
    out = await openssl.output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error("this test needs the openssl command (.ci/run installs it with apt)");
    }
    throw err;
  }
  if (!out.success) throw new Error(`openssl: ${new TextDecoder().decode(out.stderr)}`);
}
