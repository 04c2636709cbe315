/**
 * Text contrast, measured in Chromium: every visible text element's computed colour against its effective
 * background (the first opaque background found walking up its ancestors, semi-transparent ones composited), on the
 * display board (with tickets called and waiting: axe's color-contrast rule missed its near-black headings on the
 * board's black), the kiosk and its ticket, and every page of the README's tour, in English and French. Fails below
 * WCAG 2.1 AA (4.5:1, or 3:1 for large text: 24 px, or 18.66 px bold).
 *
 * Screenshots at 1280 px of the board, kiosk, ticket, home and office page in both languages are written to
 * SCREENSHOT_DIR when it is set (to look at them).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { openAllDay } from '../support/counters';
import { callNext, createTicket, openCounter } from '../../src/counters/queue';
import { DEMO_OFFICE } from '../../src/counters/demo';

const OFFICE = DEMO_OFFICE;
const SHOTS = process.env.SCREENSHOT_DIR;

export interface LowContrast { text: string; ratio: number; needed: number; color: string; background: string; selector: string }

/** Runs in the page (a string, so that no bundler helper leaks into it). */
const MEASURE = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const over = (top, bottom) => { const a = top.a + bottom.a * (1 - top.a); if (a === 0) return { r: 255, g: 255, b: 255, a: 1 }; const mix = (k) => (top[k] * top.a + bottom[k] * bottom.a * (1 - top.a)) / a; return { r: mix('r'), g: mix('g'), b: mix('b'), a }; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage && s.backgroundImage !== 'none' && !s.backgroundImage.startsWith('url(')) return null; // a gradient: cannot tell
      const c = parse(s.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const hidden = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return true;
      if (s.position === 'absolute' && (s.clip === 'rect(0px, 0px, 0px, 0px)' || s.clipPath === 'inset(50%)')) return true;
      if (e.hasAttribute('hidden')) return true;
    }
    const r = el.getBoundingClientRect();
    return r.width <= 1 || r.height <= 1;
  };
  const out = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    if (!text) continue;
    const el = n.parentElement;
    if (!el || seen.has(el) || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION'].includes(el.tagName)) continue;
    seen.add(el);
    if (hidden(el)) continue;
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    const bg = background(el);
    if (!fg || !bg) continue;
    const color = over(fg, bg);
    const size = parseFloat(s.fontSize);
    const bold = Number(s.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const r = ratio(color, bg);
    if (r + 0.005 < needed) {
      const path = [];
      for (let e = el; e && e !== document.body && path.length < 4; e = e.parentElement) path.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : ''));
      out.push({ text: text.slice(0, 60), ratio: Math.round(r * 100) / 100, needed, color: s.color, background: 'rgb(' + [bg.r, bg.g, bg.b].map(Math.round).join(',') + ')', selector: path.join(' > ') });
    }
  }
  return { checked: seen.size, low: out };
})()`;

export async function lowContrast(page: Page): Promise<{ checked: number; low: LowContrast[] }> {
  return page.evaluate(MEASURE) as Promise<{ checked: number; low: LowContrast[] }>;
}

async function assertContrast(page: Page, label: string): Promise<number> {
  const { checked, low } = await lowContrast(page);
  assert.ok(checked > 0, `${label}: no text measured`);
  assert.deepEqual(low, [], `${label} (${page.url()}): text below WCAG AA contrast:\n${low.map((l) => `  ${l.ratio}:1 < ${l.needed}:1 "${l.text}" ${l.color} on ${l.background} at ${l.selector}`).join('\n')}`);
  return checked;
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe('text contrast (WCAG AA) measured in Chromium', () => {
  let env: BrowserEnv;
  before(async () => {
    env = await startBrowserEnv();
    await openAllDay(env.db, OFFICE);
  });
  after(async () => {
    await env?.close();
  });

  it('the contrast measure itself finds near-black text on a near-black background', async () => {
    const page = await env.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(env.url('/en'));
    // styles set through the CSSOM (the page's CSP refuses style attributes in markup)
    await page.evaluate(`(() => { const d = document.createElement('div'); d.style.background = 'rgb(11, 12, 12)'; const h = document.createElement('h2'); h.textContent = 'Now serving'; h.style.color = 'rgb(11, 12, 12)'; const p = document.createElement('p'); p.textContent = 'Readable'; p.style.color = '#fff'; const q = document.createElement('p'); q.textContent = 'Half see-through'; q.style.color = 'rgba(255, 255, 255, 0.2)'; d.append(h, p, q); document.querySelector('main').appendChild(d); })()`);
    const { low } = await lowContrast(page);
    assert.deepEqual(low.map((l) => l.text), ['Now serving', 'Half see-through']);
  });

  it('the display board (tickets called and waiting, both languages) shows only itself and reads at AA; the French columns fit at 1280 px', async () => {
    const db = env.db;
    const counter = await db.selectFrom('counters').select('id').where('office_id', '=', OFFICE).where('label', '=', '1').executeTakeFirstOrThrow();
    await openCounter(db, OFFICE, counter.id, 'staff-agent');
    await createTicket(db, OFFICE, { services: ['demo-health-card', 'demo-dog-licence'], language: 'en', channel: 'kiosk' });
    await createTicket(db, OFFICE, { services: ['demo-driver-licence'], language: 'fr', channel: 'kiosk' });
    await createTicket(db, OFFICE, { services: ['demo-dog-licence'], language: 'en', channel: 'kiosk' });
    await callNext(db, OFFICE, counter.id, 'staff-agent');
    for (const [lang, url] of [['en', `/en/offices/${OFFICE}/board`], ['fr', `/fr/bureaux/${OFFICE}/tableau`]] as const) {
      const page = await env.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(env.url(url));
      await page.waitForSelector('#board-called tr');
      // bare: no site menu, no sign-in link, no footer
      assert.equal(await page.locator('.guichet-nav').count(), 0);
      assert.equal(await page.locator('a[href$="/sign-in"], a[href$="/connexion"]').count(), 0);
      assert.equal(await page.locator('footer').count(), 0);
      await assertContrast(page, `board ${lang}`);
      // nothing of the board runs past its box (the French "Attente estimée" column was clipped)
      const overflow = await page.evaluate(`(() => { const b = document.getElementById('board').getBoundingClientRect(); return [...document.querySelectorAll('#board th, #board td')].filter((c) => { const r = c.getBoundingClientRect(); return r.right > b.right + 0.5 || c.scrollWidth > c.clientWidth + 1; }).map((c) => c.textContent.trim()); })()`);
      assert.deepEqual(overflow, [], `${lang}: cells past the board`);
      assert.ok(await page.evaluate(`document.documentElement.scrollWidth <= window.innerWidth`), `${lang}: the board scrolls sideways`);
      // the called ticket of two services names both
      const services = await page.locator('#board-called .guichet-board__services').first().innerText();
      assert.match(services, /·/, services);
      await shot(page, `board-${lang}`);
    }
  });

  it('the kiosk, its error and its ticket (both languages) read at AA', async () => {
    for (const [lang, url] of [['en', `/en/offices/${OFFICE}/kiosk`], ['fr', `/fr/bureaux/${OFFICE}/borne`]] as const) {
      const page = await env.newPage({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
      await page.goto(env.url(url));
      assert.equal(await page.locator('.guichet-nav').count(), 0, 'the kiosk shows only itself');
      await assertContrast(page, `kiosk ${lang}`);
      await shot(page, `kiosk-${lang}`);
      await page.click('#take-ticket');
      assert.match(await page.locator('.govuk-error-summary').innerText(), lang === 'en' ? /Choose at least one service/ : /Choisissez au moins un service/);
      await assertContrast(page, `kiosk error ${lang}`);
      await page.check('#svc-demo-health-card');
      await page.check('#svc-demo-dog-licence');
      await page.click('#take-ticket');
      await page.waitForSelector('#ticket-number');
      assert.equal((await page.locator('#ticket-services').innerText()).split('\n').filter(Boolean).length, 2, 'both services on the ticket');
      await assertContrast(page, `ticket ${lang}`);
      await shot(page, `ticket-${lang}`);
    }
  });

  it('every page of the README tour reads at AA, in English and in French', async () => {
    const service = await env.db.selectFrom('services').select('id').where('id', '=', 'demo-health-card').executeTakeFirstOrThrow();
    const publicPages = [
      '/', '/en', '/fr', '/en/search?q=passport', '/fr/recherche?q=passeport', `/en/services/${service.id}`, `/fr/services/${service.id}`,
      '/en/organisations', '/fr/organisations', '/en/life-events', '/fr/evenements-de-vie', '/en/offices', '/fr/bureaux',
      `/en/offices/${OFFICE}`, `/fr/bureaux/${OFFICE}`, '/en/tell-us-once', '/fr/dites-le-nous-une-fois',
      `/en/offices/${OFFICE}/appointments`, `/fr/bureaux/${OFFICE}/rendez-vous`, '/en/staff/login', '/fr/personnel/connexion',
    ];
    const page = await env.newPage({ viewport: { width: 1280, height: 900 } });
    let measured = 0;
    for (const p of publicPages) {
      const res = await page.goto(env.url(p));
      assert.ok(res && res.status() < 400, `${p}: ${res?.status()}`);
      measured += await assertContrast(page, p);
      if (p === '/en' || p === '/fr' || p === `/en/offices/${OFFICE}` || p === `/fr/bureaux/${OFFICE}`) await shot(page, p.replace(/\//g, '_'));
    }
    const staff = await env.newPage({ viewport: { width: 1280, height: 900 } });
    await signInStaff(staff, env, 'staff-admin');
    for (const p of ['/en/staff', '/en/staff/catalogue', '/en/staff/console', '/en/staff/cases', '/en/staff/clients/lookup', '/en/staff/counters',
      `/en/staff/offices/${OFFICE}/reception`, `/en/staff/offices/${OFFICE}/counter`, `/en/staff/offices/${OFFICE}/waits`, `/en/staff/offices/${OFFICE}/staffing`, `/fr/personnel`]) {
      const res = await staff.goto(env.url(p));
      if (!res || res.status() >= 400) continue; // a role may not open every staff page; the pages it may open are measured
      measured += await assertContrast(staff, p);
    }
    assert.ok(measured > 500, `only ${measured} text elements measured`);
  });

  it('/docs: Swagger UI renders under its own CSP, themed as Guichet, with the bilingual introduction', async () => {
    const page = await env.newPage({ viewport: { width: 1280, height: 900 } });
    const blocked: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    await page.goto(env.url('/docs/'));
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
    assert.match(await page.title(), /Guichet API/);
    const intro = await page.locator('.swagger-ui .info .description').innerText();
    assert.match(intro, /English\./);
    assert.match(intro, /Français\./);
    assert.equal(await page.evaluate(`getComputedStyle(document.querySelector('.swagger-ui .topbar')).backgroundColor`), 'rgb(11, 79, 108)');
    assert.deepEqual(blocked, []);
    await shot(page, 'docs');
  });
});
