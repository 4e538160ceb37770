/**
 * Reading Prometheus text in tests.
 *
 * @module
 */

/** Reads one metric's value from Prometheus text (`name` may include labels). */
export function metric(text: string, name: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ")) return Number(line.slice(name.length + 1));
  }
  throw new Error(`metric ${name} not found`);
}
