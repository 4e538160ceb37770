/**
 * The page with viewer auth on, in headless Chromium: it passes its own `?token=` to /ws, draws the
 * series its token allows, and stops (no reconnect) when the token expires (4001). Skipped when
 * Chromium is not installed (CI installs it).
 */
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { signToken } from "../../src/http/auth.ts";
import { startZws, waitFor } from "../_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

const SECRET = "page-test-secret-" + crypto.randomUUID();
const KEY = new TextEncoder().encode(SECRET);

Deno.test({
  name: "page: with a token in its address it shows only the token's series, and stops at 4001",
  ignore: !haveChromium,
  async fn() {
    const zws = await startZws([], { env: { ZWS_AUTH_SECRET: SECRET } }); // demo: sine, cosine
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await browser.newPage();
      const token = await signToken(KEY, { ttlSeconds: 5, series: ["sine"] });
      const res = await page.goto(`${zws.base}/?token=${token}`);
      assert.equal(res?.status(), 200);
      const state = () =>
        page.evaluate(() => (globalThis as unknown as { zws: { state: string } }).zws.state);
      const labels = () =>
        page.evaluate(() =>
          (globalThis as unknown as {
            zws: { plot: { getData(): Array<{ label: string; data: unknown[] }> } };
          })
            .zws.plot.getData().filter((s) => s.data.length > 0).map((s) => s.label)
        );
      await waitFor(async () => (await labels()).length > 0, 8000, "a drawn series");
      assert.equal(await state(), "connected");
      assert.deepEqual(await labels(), ["sine"], "only the token's series is drawn");
      await waitFor(async () => (await state()) === "closed", 8000, "the page to stop at expiry");
      const status = await page.$eval("#status", (el) => el.textContent);
      assert.match(status ?? "", /token expired/);

      // Without a token the page itself is refused.
      const bare = await page.goto(`${zws.base}/`);
      assert.equal(bare?.status(), 401);
    } finally {
      await browser.close();
      await zws.stop();
    }
  },
});
