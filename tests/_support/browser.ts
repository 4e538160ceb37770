/**
 * Headless Chromium for the browser tests: puppeteer-core drives Debian's /usr/bin/chromium with a
 * fresh temporary profile, and records what the page reports that it should not (console errors,
 * page errors, failed requests, HTTP errors).
 *
 * @module
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Flags Chromium needs on this project's machines (root, no GPU, no network beyond loopback: the
 * background-networking flags stop its refused connections); a fresh `--user-data-dir` goes after.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Where tests save screenshots. */
export const RESULTS = new URL("../../test-results/", import.meta.url);

/** Whether Chromium is here (the browser tests are ignored without it). */
export const haveChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
/** Where Debian installs Firefox ESR (puppeteer-core drives it over WebDriver BiDi). */
export const FIREFOX = "/usr/bin/firefox-esr";
/** Whether Firefox ESR is here (its runs of the page tests are ignored without it). */
export const haveFirefox = await Deno.stat(FIREFOX).then((s) => s.isFile, () => false);
/** The browsers the page tests run in. */
export type BrowserKind = "chrome" | "firefox";

/** What the page reported that it should not have. */
export interface Problems {
  console: string[];
  pageErrors: string[];
  failedRequests: string[];
}

/** How Chromium and Firefox report a request the page itself aborted (`AbortController`). */
const ABORTED = /: (net::ERR_ABORTED|NS_BINDING_ABORTED)$/;

/**
 * `problems` without the requests to `path` that the page aborted on purpose (for example
 * `static/history.js` aborts a history request that a newer view superseded). Any other failure
 * of those requests, and every other problem, stays.
 */
export function withoutAborted(problems: Problems, path: RegExp): Problems {
  return {
    ...problems,
    failedRequests: problems.failedRequests.filter((r) => !(path.test(r) && ABORTED.test(r))),
  };
}

/** A headless Chromium with one page, its problems recorded from the start. */
export interface BrowserSession {
  browser: Browser;
  page: Page;
  problems: Problems;
  close(): Promise<void>;
}

/**
 * Launches Chromium or Firefox (fresh profile, removed on close) with one page of `viewport`;
 * with `downloads`, the page saves the files it downloads in that directory.
 */
export async function openBrowser(
  viewport: { width: number; height: number },
  kind: BrowserKind = "chrome",
  opts: { downloads?: string } = {},
): Promise<BrowserSession> {
  const profile = await Deno.makeTempDir({ prefix: `zws-${kind}-` });
  let browser: Browser | undefined;
  try {
    browser = kind === "firefox"
      ? await puppeteer.launch({
        browser: "firefox",
        executablePath: FIREFOX,
        headless: true,
        userDataDir: profile,
        defaultViewport: viewport,
        timeout: 60000,
        protocolTimeout: 30000,
        // Firefox ESR 140 has no BiDi `browser.setDownloadBehavior` (what a browser context's
        // downloadBehavior sends): its own preferences put downloads in the directory instead.
        ...(opts.downloads
          ? {
            extraPrefsFirefox: {
              "browser.download.dir": opts.downloads,
              "browser.download.folderList": 2,
              "browser.download.useDownloadDir": true,
              "browser.download.always_ask_before_handling_new_types": false,
              "browser.helperApps.neverAsk.saveToDisk":
                "text/csv,image/png,application/octet-stream",
              "browser.download.start_downloads_in_tmp_dir": false,
            },
          }
          : {}),
      })
      : await puppeteer.launch({
        executablePath: CHROMIUM,
        // Puppeteer adds its usual automation defaults too (--enable-automation, no background
        // timer throttling, --disable-dev-shm-usage, ...); `args` are the flags these tests require.
        headless: true,
        args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`],
        defaultViewport: viewport,
        timeout: 30000,
        protocolTimeout: 30000,
      });
    const page = opts.downloads && kind === "chrome"
      ? await (await browser.createBrowserContext({
        downloadBehavior: { policy: "allow", downloadPath: opts.downloads },
      })).newPage()
      : await browser.newPage();
    page.setDefaultTimeout(15000);
    const problems: Problems = { console: [], pageErrors: [], failedRequests: [] };
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "assert") {
        problems.console.push(`${msg.text()} (${msg.location().url ?? "?"})`);
      }
    });
    page.on("pageerror", (err) => problems.pageErrors.push(String(err)));
    page.on("requestfailed", (req) => {
      problems.failedRequests.push(`${req.url()}: ${req.failure()?.errorText ?? "failed"}`);
    });
    page.on("response", (res) => {
      if (res.status() >= 400) problems.failedRequests.push(`${res.url()}: HTTP ${res.status()}`);
    });
    const b = browser;
    return {
      browser: b,
      page,
      problems,
      async close() {
        try {
          await b.close();
        } finally {
          await Deno.remove(profile, { recursive: true }).catch(() => {});
        }
      },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw err;
  }
}

/** Saves a screenshot of `page` as test-results/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(RESULTS, { recursive: true });
  const path = new URL(`${name}.png`, RESULTS).pathname;
  await page.screenshot({ path: path as `${string}.png` });
  return path;
}
