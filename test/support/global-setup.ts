// Runs once before any test file: makes sure the browser the browser tests need is there, installing it at most once (parallel installs would fight over dpkg's lock).

import { findChromium } from './browser.js';

export default async function setup(): Promise<void> {
  const found = await findChromium();
  if ('skip' in found) console.warn(found.skip);
}
