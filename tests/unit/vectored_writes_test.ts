import assert from "node:assert/strict";
import { useVectoredWrites, WRITEV_ENV } from "../../src/runtime/vectored_writes.ts";

/** An environment of `vars` that records what is set, or refuses everything (`denied`). */
function env(vars: Record<string, string>, denied = false) {
  return {
    vars,
    get: (k: string) => {
      if (denied) throw new Deno.errors.NotCapable(`env ${k}`);
      return vars[k];
    },
    set: (k: string, v: string) => {
      if (denied) throw new Deno.errors.NotCapable(`env ${k}`);
      vars[k] = v;
    },
  };
}

Deno.test("useVectoredWrites sets DENO_USE_WRITEV=1 when it is not set", () => {
  const e = env({});
  assert.equal(useVectoredWrites(e), "set");
  assert.equal(e.vars[WRITEV_ENV], "1");
});

Deno.test("useVectoredWrites keeps a value the user set, even empty (Deno reads that as off)", () => {
  const e = env({ [WRITEV_ENV]: "" });
  assert.equal(useVectoredWrites(e), "kept");
  assert.equal(e.vars[WRITEV_ENV], "");
});

Deno.test("useVectoredWrites says denied, and does not throw, without the env permission", () => {
  assert.equal(useVectoredWrites(env({}, true)), "denied");
});
