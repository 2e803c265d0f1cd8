// Drives Swagger UI as a person would, in Debian's Chromium, against a live server:
// Authorize with a bearer token, then "Try it out" → "Execute" on listUsers (GET /api/v1/users),
// and checks the rendered live response. Needs BASE_URL, OWNER_USERNAME, OWNER_PASSWORD.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const baseUrl = (process.env.BASE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const { OWNER_USERNAME: username, OWNER_PASSWORD: password } = process.env;
const screenshot = resolve(here, process.env.SCREENSHOT ?? "../../target/swagger-ui.png");

function fail(message) {
  console.error(`swagger ui: FAILED: ${message}`);
  process.exit(1);
}

if (!username || !password) fail("OWNER_USERNAME and OWNER_PASSWORD must be set");

// The token is obtained outside the browser, as a person would copy it from a login response.
const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ username, password }),
});
if (login.status !== 200) fail(`login: ${login.status} ${await login.text()}`);
const { access_token: token } = await login.json();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let exitCode = 0;
const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
page.setDefaultTimeout(15_000);
try {
  await page.goto(`${baseUrl}/swagger-ui/`);

  // Authorize: paste the token into the bearer field, authorize, close the dialog.
  await page.locator(".auth-wrapper button.authorize").click();
  const dialog = page.locator(".dialog-ux .modal-ux");
  await dialog.locator("input[type=text]").fill(token);
  await dialog.locator("button", { hasText: /^Authorize$/ }).click();
  await dialog.locator("button", { hasText: /^Logout$/ }).waitFor(); // shown once authorized
  await dialog.locator("button", { hasText: /^Close$/ }).click();
  await dialog.waitFor({ state: "detached" });

  // Expand listUsers, "Try it out", "Execute".
  const operation = page.locator("#operations-users-listUsers");
  await operation.locator(".opblock-summary").click();
  await operation.locator("button", { hasText: /^Try it out\s*$/ }).click();
  await operation.locator("button", { hasText: /^Execute$/ }).click();

  // The live response (not the documented examples) must be a 200 that lists the owner.
  const live = operation.locator(".live-responses-table .response");
  const status = (await live.locator(".response-col_status").innerText()).trim();
  const body = await live.locator(".response-col_description .microlight").first().innerText();

  // Screenshot: from the Authorize button down to the live response.
  const pageY = (locator) => locator.evaluate((e) => e.getBoundingClientRect().bottom + window.scrollY);
  const top = (await pageY(page.locator(".auth-wrapper"))) - 60;
  const height = (await pageY(live)) + 16 - top;
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true, clip: { x: 0, y: top, width: 1280, height } });

  // Swagger UI lists document problems (e.g. unresolvable $refs) in an "Errors" box.
  const errors = page.locator(".errors-wrapper");
  if (await errors.count()) throw new Error(`Swagger UI reports errors:\n${await errors.innerText()}`);
  if (status !== "200") throw new Error(`live response status is ${status}, expected 200:\n${body}`);
  const { items, total } = JSON.parse(body);
  if (!items.some((user) => user.username === username)) {
    throw new Error(`live response body does not list ${username}:\n${body}`);
  }
  console.log(
    `swagger ui: OK: Authorize → listUsers → Try it out → Execute gave 200 with ${username} ` +
      `(total ${total}); screenshot ${screenshot}`,
  );
} catch (error) {
  await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  console.error(`swagger ui: FAILED: ${error.message} (screenshot ${screenshot})`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
