/**
 * What the real-browser suites share: Debian's chromium at /usr/bin/chromium
 * (`apt-get install -y chromium`; the suites skip with a message without it),
 * its flags, and paths in the repository.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const HAS_CHROMIUM = existsSync(CHROMIUM)
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** The viewport of every screenshot. */
export const VIEWPORT = { width: 1440, height: 1000 }

/** A path in the repository. */
export const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))

if (!HAS_CHROMIUM) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`)
}

/** Numeric text content of an element on the page. */
export async function numberOf (page: Page, selector: string): Promise<number> {
  return Number(await page.locator(selector).textContent())
}

/** The links drawn in the topology between two nodes other than `viewer` (what a star around the viewer lacks). */
export async function linksBeyond (page: Page, viewer: string): Promise<Array<[string, string]>> {
  const links = await page.locator('#topology [data-link]').evaluateAll(lines => lines.map(l => l.getAttribute('data-link') ?? ''))
  return links.map(l => l.split(' ') as [string, string]).filter(([a, b]) => a !== viewer && b !== viewer)
}
