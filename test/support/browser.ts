// Chromium for the dashboard's end-to-end tests, launched as DESIGN section 3 says: Debian's
// /usr/bin/chromium driven by playwright-core with the fixed flags (Playwright itself gives every
// launch a fresh temporary profile, so no --user-data-dir is passed). Screenshots go to
// test-artifacts/dashboard/<name>.png, and every page's console errors are collected.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTIFACTS = path.resolve('test-artifacts', 'dashboard');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export const LAPTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function newContext(browser: Browser, viewport = LAPTOP): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  // A missing element fails its test in 10 s, well inside vitest's 30 s, with Playwright's own message.
  context.setDefaultTimeout(10_000);
  return context;
}

/** Saves a screenshot as test-artifacts/dashboard/<name>.png (the project name is added when set). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const project = process.env.TEST_DB ? `-${process.env.TEST_DB}` : '';
  const file = path.join(ARTIFACTS, `${name}${project}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Console errors, uncaught exceptions and failed requests of a page, as readable lines. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${page.url()})`);
  });
  page.on('pageerror', (error) => errors.push(`exception: ${error.message} (${page.url()})`));
  return errors;
}
