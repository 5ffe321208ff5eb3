// Firefox for the engine tests (tests/engines.py), driven by puppeteer-core over
// WebDriver BiDi: Python has no BiDi client of its own, and Selenium's Firefox driver
// needs geckodriver, which Debian does not ship. One JSON command per line on stdin,
// one JSON answer per line on stdout: {ok: true, value} or {ok: false, error}.
//
//   node firefox-driver.mjs '{"executablePath": "/usr/bin/firefox-esr", "profile": DIR,
//                             "private": false, "width": 390, "height": 844}'

import readline from "node:readline";
import puppeteer from "puppeteer-core";

const options = JSON.parse(process.argv[2]);
const prefs = {
  "media.navigator.streams.fake": true, // a fake camera, granted without asking
  "media.navigator.permission.disabled": true,
  "browser.privatebrowsing.autostart": Boolean(options.private), // every window private
};
const browser = await puppeteer.launch({
  browser: "firefox", executablePath: options.executablePath, headless: true,
  userDataDir: options.profile, extraPrefsFirefox: prefs, defaultViewport: null,
});
const problems = []; // the pages' errors and warnings, for a failing test's message
const watched = async (tab) => {
  await tab.setViewport({ width: options.width, height: options.height, deviceScaleFactor: 2 });
  tab.on("console", (message) => {
    if (["error", "warn"].includes(message.type())) problems.push(`${message.type()}: ${message.text()}`);
  });
  tab.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  return tab;
};
let page = await watched((await browser.pages())[0] ?? await browser.newPage());
const tabs = [page]; // in the order opened
let held = null; // the element a finger is on

const centre = async (selector) => {
  const box = await (await page.waitForSelector(selector, { visible: true, timeout: 20000 })).boundingBox();
  return [box.x + box.width / 2, box.y + box.height / 2];
};

const commands = {
  goto: ({ url }) => page.goto(url).then(() => null),
  reload: () => page.reload().then(() => null),
  openTab: async ({ url }) => {
    page = await watched(await browser.newPage());
    tabs.push(page);
    await page.goto(url);
  },
  switchTab: async ({ index }) => { page = tabs[index]; await page.bringToFront(); },
  evaluate: ({ expression }) => page.evaluate(expression),
  click: async ({ selector }) => { await (await page.waitForSelector(selector, { visible: true, timeout: 20000 })).click(); },
  fill: async ({ selector, text }) => {
    const field = await page.waitForSelector(selector, { visible: true, timeout: 20000 });
    await field.click({ count: 3 });
    await field.type(text);
  },
  hold: async ({ selector }) => {
    held = await centre(selector);
    await page.mouse.move(...held);
    await page.mouse.down();
  },
  release: async () => { if (held) await page.mouse.up(); held = null; },
  upload: async ({ selector, paths }) => { await (await page.$(selector)).uploadFile(...paths); },
  screenshot: ({ path, fullPage }) => page.screenshot({ path, fullPage: Boolean(fullPage) }).then(() => null),
  problems: () => problems.splice(0).slice(-20),
  close: async () => { await browser.close(); process.exit(0); },
};

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const { op, ...args } = JSON.parse(line);
  let answer;
  try {
    answer = { ok: true, value: (await commands[op](args)) ?? null };
  } catch (error) {
    answer = { ok: false, error: String(error?.stack || error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
