/**
 * The unit of each series: the last one a producer sent with a point (`"unit"` next to `series`,
 * see `protocol/ingress.ts`), as the relay passes them on the bus (`protocol/bus.ts`). The
 * bridge names them in `series_list` frames and the history API in its answers. Pure: no I/O.
 *
 * @module
 */

/** Most series whose unit is remembered (the oldest entry goes beyond). */
export const MAX_UNITS = 10_000;

/** Series -> unit, with a version that changes whenever a unit does. */
export class SeriesUnits {
  #units = new Map<string, string>();
  #version = 0;

  /** Bumped whenever a series' unit changes. */
  get version(): number {
    return this.#version;
  }

  /** Series with a unit. */
  get size(): number {
    return this.#units.size;
  }

  /** Every (series, unit), oldest change first. */
  entries(): [string, string][] {
    return [...this.#units];
  }

  /** The unit of `series`, if it has one. */
  get(series: string): string | undefined {
    return this.#units.get(series);
  }

  /** Sets units (series -> unit); returns whether any changed. */
  merge(units: Iterable<readonly [string, string]>): boolean {
    let changed = false;
    for (const [series, unit] of units) {
      if (this.#units.get(series) === unit) continue;
      this.#units.delete(series); // re-inserted last: the newest stays longest
      this.#units.set(series, unit);
      changed = true;
      if (this.#units.size > MAX_UNITS) {
        this.#units.delete(this.#units.keys().next().value!);
      }
    }
    if (changed) this.#version++;
    return changed;
  }

  /** The units of the series in `names` that have one, as a JSON-ready object. */
  of(names: Iterable<string>): Record<string, string> {
    // No prototype: a series named "__proto__" is an own key like any other.
    const out: Record<string, string> = Object.create(null);
    for (const n of names) {
      const u = this.#units.get(n);
      if (u !== undefined) out[n] = u;
    }
    return out;
  }
}
