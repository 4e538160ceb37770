/**
 * Shared pieces of the benchmark (`deno task bench`): the latency histogram the load generators
 * fill and the orchestrator merges, the clock every point's send time is read from, `/proc` readers
 * for RSS and CPU, and the line protocol between the orchestrator and its child processes.
 *
 * @module
 */

/** Epoch milliseconds with sub-millisecond precision; comparable across processes on one host. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Linux USER_HZ: the unit of utime/stime in `/proc/<pid>/stat` (100 on every x86-64 kernel). */
export const CLOCK_TICKS = 100;

/** Buckets of 0.1 ms up to 1 s, then 10 ms up to 60 s, then one overflow bucket. */
const FINE_MS = 1000;
const FINE_STEP = 0.1;
const COARSE_MS = 60000;
const COARSE_STEP = 10;
const FINE_BUCKETS = FINE_MS / FINE_STEP;
const BUCKETS = FINE_BUCKETS + (COARSE_MS - FINE_MS) / COARSE_STEP + 1;

/** A latency histogram (ms): 0.1 ms resolution below 1 s, 10 ms up to 60 s. */
export class Histogram {
  /** Count per bucket. */
  readonly counts = new Float64Array(BUCKETS);
  /** Samples recorded. */
  total = 0;
  /** Largest sample, exact. */
  max = 0;
  /** Samples below zero (clock disagreement between processes), recorded as 0. */
  negative = 0;

  /** Records one latency in ms. */
  add(ms: number): void {
    if (ms < 0) {
      this.negative++;
      ms = 0;
    }
    if (ms > this.max) this.max = ms;
    let i: number;
    if (ms < FINE_MS) i = (ms / FINE_STEP) | 0;
    else if (ms < COARSE_MS) i = FINE_BUCKETS + (((ms - FINE_MS) / COARSE_STEP) | 0);
    else i = BUCKETS - 1;
    this.counts[i]++;
    this.total++;
  }

  /** Records `n` samples of the same latency. */
  addMany(ms: number, n: number): void {
    for (let k = 0; k < n; k++) this.add(ms);
  }

  /** The latency (ms, bucket midpoint) below which fraction `q` of the samples lie. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(bucketMid(i), this.max);
    }
    return this.max;
  }

  /** The mean latency in ms (from bucket midpoints), NaN when empty. */
  mean(): number {
    if (this.total === 0) return NaN;
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) sum += this.counts[i] * bucketMid(i);
    return Math.min(sum / this.total, this.max);
  }

  /** Sparse form for a JSON line: `[[bucket, count], ...]`. */
  toJSON(): HistogramJson {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, total: this.total, max: this.max, negative: this.negative };
  }

  /** Adds a histogram received as {@link HistogramJson}. */
  merge(h: HistogramJson): void {
    for (const [i, n] of h.buckets) this.counts[i] += n;
    this.total += h.total;
    this.max = Math.max(this.max, h.max);
    this.negative += h.negative;
  }
}

/** A {@link Histogram} on the wire. */
export interface HistogramJson {
  buckets: Array<[number, number]>;
  total: number;
  max: number;
  negative: number;
}

function bucketMid(i: number): number {
  if (i < FINE_BUCKETS) return (i + 0.5) * FINE_STEP;
  if (i < BUCKETS - 1) return FINE_MS + (i - FINE_BUCKETS + 0.5) * COARSE_STEP;
  return COARSE_MS;
}

/** Memory of a process from `/proc/<pid>/status`, in KiB. */
export interface MemInfo {
  /** Resident set size now. */
  rssKiB: number;
  /** Peak resident set size since the process started (VmHWM). */
  hwmKiB: number;
}

/**
 * Reads files under `/proc` through `cat`: Deno 2.9 requires `--allow-all` to read `/proc`
 * directly, and the benchmark runs without it. Missing files (a process that is gone) are skipped.
 */
export async function readProc(paths: string[]): Promise<string> {
  try {
    const out = await new Deno.Command("cat", { args: paths, stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return "";
  }
}

/** Reads VmRSS and VmHWM of `pid`; undefined once the process is gone. */
export async function readMem(pid: number): Promise<MemInfo | undefined> {
  const text = await readProc([`/proc/${pid}/status`]);
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rssKiB = field("VmRSS");
  if (rssKiB === undefined) return undefined;
  return { rssKiB, hwmKiB: field("VmHWM") ?? rssKiB };
}

/** Key of {@link readCpuSeconds}'s result for the whole machine's busy CPU seconds. */
export const MACHINE = 0;

/**
 * CPU seconds (user + system) used so far by each of `pids` (0 for one that is gone), and under
 * key {@link MACHINE} the busy seconds of the whole machine, all cores (from `/proc/stat`).
 */
export async function readCpuSeconds(pids: number[]): Promise<Map<number, number>> {
  const text = await readProc([...pids.map((p) => `/proc/${p}/stat`), "/proc/stat"]);
  const out = new Map<number, number>(pids.map((p) => [p, 0]));
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) {
      // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
      const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
      out.set(MACHINE, (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / CLOCK_TICKS);
      continue;
    }
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    // The command name (field 2) may hold spaces; after its closing parenthesis come state, ppid,
    // ... with utime and stime as fields 14 and 15 overall.
    const pid = Number(line.slice(0, line.indexOf(" ")));
    const rest = line.slice(close + 2).split(" ");
    out.set(pid, (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS);
  }
  return out;
}

/** Reads newline-delimited JSON objects from a byte stream. */
export async function* jsonLines<T>(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<T> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line.startsWith("{")) yield JSON.parse(line) as T;
    }
  }
}

/** Writes one JSON line to stdout (the orchestrator reads it). */
export function emit(msg: unknown): void {
  const bytes = new TextEncoder().encode(JSON.stringify(msg) + "\n");
  let off = 0;
  for (let i = 0; i < 100000 && off < bytes.length; i++) {
    off += Deno.stdout.writeSync(bytes.subarray(off));
  }
}

/** Yields the trimmed, non-empty lines of this process's stdin (commands of the orchestrator). */
export async function* stdinLines(): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield line;
    }
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
