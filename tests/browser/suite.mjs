// Watchword in a real browser (Debian's Chromium, driven by playwright-core): the flows
// a person goes through, end to end, and on every page they see axe-core (WCAG 2.2 A/AA)
// in the light and dark themes, at 1280, 375 and 320 px (320 px is 200 % zoom of 640),
// failing on any violation or any horizontal scroll. The authenticator app is played by
// decoding the QR code from the screen (jsQR) and computing codes with oathtool.
//
// Run by scripts/browser-tests, which starts the server and seeds it. Environment:
// WATCHWORD_BASE, WATCHWORD_CLIENT_ID, WATCHWORD_CLIENT_REDIRECT, WATCHWORD_PUBLIC_CLIENT_ID
// (a public, trusted client for oauth4webapi's PAR + PKCE + DPoP flow), CHROMIUM (default
// /usr/bin/chromium), SCREENSHOTS (a directory: every page is saved there, light, dark
// and phone, for docs/screenshots).

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

import jsQR from 'jsqr';
import * as oauth from 'oauth4webapi';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const BASE = need('WATCHWORD_BASE');
const CLIENT_ID = need('WATCHWORD_CLIENT_ID');
const REDIRECT = need('WATCHWORD_CLIENT_REDIRECT');
const PUBLIC_CLIENT_ID = need('WATCHWORD_PUBLIC_CLIENT_ID');
const SHOTS = process.env.SCREENSHOTS;
const PASSWORD = 'correct horse battery staple';

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run scripts/browser-tests)`);
  return value;
}

const failures = [];
let pagesChecked = 0;

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** A code for `otpauth` at `offset` seconds from now, by oathtool (not our code). */
function code(otpauth, offset = 0) {
  const q = new URL(otpauth).searchParams;
  const at = Math.floor(Date.now() / 1000) + offset;
  return execFileSync('oathtool', [
    `--totp=${(q.get('algorithm') || 'SHA1').toLowerCase()}`, '--base32',
    `--digits=${q.get('digits') || 6}`, `--time-step-size=${q.get('period') || 30}s`,
    `--now=@${at}`, q.get('secret'),
  ]).toString().trim();
}

/** The otpauth URI of the QR code on the page, decoded from its pixels. */
async function scanQr(page) {
  const png = PNG.sync.read(await page.locator('.qr svg').screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(found, 'the QR code could not be decoded from the screen');
  return found.data;
}

/**
 * The checks every page gets: axe-core in light and dark, at 1280, 375 and 320 px, and
 * no horizontal scroll; saved as screenshots when asked.
 */
async function check(page, name) {
  pagesChecked += 1;
  const views = [['light', 1280], ['dark', 1280], ['light', 375], ['dark', 375], ['light', 320]];
  for (const [theme, width] of views) {
    await page.emulateMedia({ colorScheme: theme });
    await page.setViewportSize({ width, height: 900 });
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    }));
    for (const v of result.violations) {
      const where = v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${(n.failureSummary || '').split('\n').slice(1).join(' ').trim()})`).join('; ');
      failures.push(`${name} (${theme}, ${width}px): ${v.id}: ${v.help} — ${where}`);
    }
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (scroll > 0) failures.push(`${name} (${theme}, ${width}px): scrolls sideways by ${scroll}px`);
    if (SHOTS && (width === 1280 || (width === 375 && theme === 'light'))) {
      const kind = width === 375 ? 'phone' : theme;
      await page.screenshot({ path: `${SHOTS}/${name}-${kind}.png`, fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function submit(page, formAction) {
  await Promise.all([page.waitForNavigation(), page.locator(`form[action^="${formAction}"] button[type=submit]`).first().click()]);
}

async function signIn(page, username) {
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await submit(page, '/login/password');
}

/** Enrolment inside a sign-in: scan, confirm, keep the codes; returns the URI and codes. */
async function enrol(page, name) {
  expect(await page.isVisible('text=Set up your authenticator app'), `${name}: no enrolment page`);
  await check(page, `${name}-enrol`);
  const otpauth = await scanQr(page);
  const link = await page.getAttribute('a[href^="otpauth:"]', 'href');
  expect(otpauth === link, 'the QR code and the link carry the same secret');
  await page.fill('#code', code(otpauth));
  await submit(page, '/login/enrol');
  const codes = await page.locator('.codes code').allTextContents();
  expect(codes.length === 10, `ten recovery codes, got ${codes.length}`);
  await check(page, `${name}-recovery-codes`);
  await submit(page, '/login/codes');
  return { otpauth, codes };
}

async function flow(browser, name, run) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  try {
    await run(page);
    console.log(`ok    ${name}`);
  } catch (err) {
    failures.push(`${name}: ${err.message}`);
    console.log(`FAIL  ${name}: ${err.message}`);
  } finally {
    await context.close();
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

await flow(browser, 'first sign-in with enrolment, recovery codes and the account page', async (page) => {
  await page.goto(`${BASE}/account?tenant=acme`);
  expect(page.url().includes('/login?flow='), `a sign-in: ${page.url()}`);
  await check(page, 'sign-in');
  await signIn(page, 'alice');
  await enrol(page, 'first');
  expect(new URL(page.url()).pathname === '/account', `the account page: ${page.url()}`);
  await check(page, 'account');
  await Promise.all([page.waitForNavigation(), page.click('a[hreflang=de]')]);
  expect(await page.isVisible('h1:text-is("Ihr Konto")'), 'the account page in German');
  await check(page, 'account-de');
});

// The same user again, now enrolled: code page, recovery page, new codes, sign-out.
await flow(browser, 'a code, a recovery code, new recovery codes, signing out and a password change', async (page) => {
  await page.goto(`${BASE}/account?tenant=acme`);
  await signIn(page, 'bob');
  const { otpauth } = await enrol(page, 'second');
  // New recovery codes need a current code: the next time step's (this one is spent).
  await page.fill('#recovery-code', code(otpauth, 30));
  await submit(page, '/account/recovery-codes');
  const codes = await page.locator('.codes code').allTextContents();
  expect(codes.length === 10, 'new codes shown');
  await page.reload();
  const again = await page.locator('.codes code').allTextContents();
  expect(again.join() === codes.join(), 'a reload shows the same codes (post/redirect/get)');
  await submit(page, '/account/codes-saved');
  expect(await page.isVisible('text=Recovery codes saved.'), 'said so');
  await submit(page, '/account/logout');
  await check(page, 'signed-out');
  await page.goto(`${BASE}/account?tenant=acme`);
  await signIn(page, 'bob');
  await check(page, 'code');
  await Promise.all([page.waitForNavigation(), page.click('text=Use a recovery code instead')]);
  await check(page, 'recovery');
  await page.fill('#code', codes[0]);
  await submit(page, '/login/recovery');
  expect(new URL(page.url()).pathname === '/account', `signed in with a recovery code: ${page.url()}`);
  // A password change right after a second factor needs no other code.
  await page.fill('#current_password', PASSWORD);
  await page.fill('#new_password', 'a brand new passphrase for bob');
  await page.fill('#confirm', 'a brand new passphrase for bob');
  await submit(page, '/account/password');
  expect(await page.isVisible('text=Your password has been changed'), 'the change is confirmed');
  await check(page, 'account-password-changed');
});

// Two authenticators, removing one, and signing another browser out from the account page.
await flow(browser, 'account: add and remove an authenticator, sign out another browser', async (page) => {
  await page.goto(`${BASE}/account?tenant=acme`);
  await signIn(page, 'erin');
  const { otpauth: first, codes } = await enrol(page, 'erin');
  // Adding proves a factor: a recovery code here; the new app then proves itself.
  await page.fill('#add-label', 'Tablet');
  await page.fill('#add-code', codes[0]);
  await submit(page, '/account/totp/add');
  expect(new URL(page.url()).pathname === '/account/totp', `the new app's set-up page: ${page.url()}`);
  await check(page, 'account-add-authenticator');
  const second = await scanQr(page);
  expect(second !== first, 'a secret of its own');
  await page.fill('#code', code(second));
  await submit(page, '/account/totp/confirm');
  expect(await page.isVisible('text=Your authenticator app is set up.'), 'added, and said so');
  expect(await page.locator('ul.authenticators > li').count() === 2, 'two authenticators listed');
  await check(page, 'account-two-authenticators');
  // Removing the first needs a fresh code (the tablet's next one).
  await page.fill('#remove-code-1', code(second, 30));
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/remove"] button').first().click()]);
  expect(await page.isVisible('text=Authenticator removed.'), 'removed, and said so');
  expect(await page.locator('ul.authenticators > li').count() === 1, 'one left');

  // A second browser signs in (with a recovery code: the tablet's codes are spent).
  const other = await page.context().browser().newContext();
  try {
    const elsewhere = await other.newPage();
    await elsewhere.goto(`${BASE}/account?tenant=acme`);
    await signIn(elsewhere, 'erin');
    await Promise.all([elsewhere.waitForNavigation(), elsewhere.click('text=Use a recovery code instead')]);
    await elsewhere.fill('#code', codes[1]);
    await submit(elsewhere, '/login/recovery');
    expect(new URL(elsewhere.url()).pathname === '/account', `signed in elsewhere: ${elsewhere.url()}`);
    await page.reload();
    expect(await page.locator('ul.sessions > li').count() === 2, 'both browsers listed');
    await check(page, 'account-two-browsers');
    await Promise.all([page.waitForNavigation(), page.locator('form[action$="/end"] button').first().click()]);
    expect(await page.isVisible('text=That browser is signed out.'), 'signed out, and said so');
    expect(await page.locator('ul.sessions > li').count() === 1, 'one browser left');
    await elsewhere.goto(`${BASE}/account?tenant=acme`);
    expect(elsewhere.url().includes('/login?flow='), `the other browser must sign in again: ${elsewhere.url()}`);
  } finally {
    await other.close();
  }
});

await flow(browser, 'administration: create, revoke, policy, audit', async (page) => {
  await page.goto(`${BASE}/admin?tenant=acme`);
  await signIn(page, 'boss');
  await enrol(page, 'admin');
  expect(new URL(page.url()).pathname === '/admin', `back at /admin: ${page.url()}`);
  await check(page, 'admin-users');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/admin/users/new"]')]);
  await check(page, 'admin-new');
  await page.fill('#username', 'alice');
  await submit(page, '/admin/users/new');
  expect(await page.isVisible('#form-error'), 'a duplicate is refused inline');
  expect((await page.inputValue('#username')) === 'alice', 'what was typed stays');
  await check(page, 'admin-new-refused');
  await page.fill('#username', 'newbie');
  await submit(page, '/admin/users/new');
  expect(await page.isVisible('text=Created'), 'created, with its one-time password');
  await check(page, 'admin-created');
  await page.goto(`${BASE}/admin?q=alice`);
  await Promise.all([page.waitForNavigation(), page.click('table a:text-is("alice")')]);
  await check(page, 'admin-user');
  await Promise.all([page.waitForNavigation(), page.click('text=Revoke TOTP secret')]);
  await check(page, 'admin-revoke');
  await page.fill('#reason', 'lost phone');
  await submit(page, '/admin/users/');
  expect(await page.isVisible('text=TOTP revoked'), 'revoked, and said so');
  await page.goto(`${BASE}/admin/policy`);
  await check(page, 'admin-policy');
  await submit(page, '/admin/policy');
  expect(await page.isVisible('text=Policy saved.'), 'policy saved');
  await page.goto(`${BASE}/admin/audit`);
  await check(page, 'admin-audit');
  expect(await page.isVisible('text=lost phone'), 'the revocation is in the audit log');

  // Branding: a colour too light for white text is refused, keeping what was typed;
  // a dark one is saved and colours the buttons; then the default again.
  await page.goto(`${BASE}/admin/policy`);
  await page.fill('#brand_name', 'Acme Corp');
  await page.fill('#primary_colour', '#ffee00');
  await submit(page, '/admin/branding');
  expect(await page.isVisible('#form-error'), 'a light colour is refused inline');
  expect((await page.inputValue('#primary_colour')) === '#ffee00', 'the colour typed stays');
  expect((await page.inputValue('#brand_name')) === 'Acme Corp', 'the name typed stays');
  await page.fill('#primary_colour', '#14532d');
  await submit(page, '/admin/branding');
  expect(await page.isVisible('text=Branding saved.'), 'branding saved');
  expect((await page.textContent('header.brand span')) === 'Acme Corp', 'the new name on the page');
  const colour = await page.$eval('button[type=submit]', (b) => getComputedStyle(b).backgroundColor);
  expect(colour === 'rgb(20, 83, 45)', `the buttons take the colour: ${colour}`);
  await check(page, 'admin-branded');
  await page.fill('#brand_name', 'Acme Corporation');
  await page.fill('#primary_colour', '');
  await submit(page, '/admin/branding');
  expect(await page.isVisible('text=Branding saved.'), 'branding restored');

  // The admin pages in German (longer words: no sideways scroll at 320 px either).
  await page.goto(`${BASE}/admin?lang=de`);
  expect(await page.isVisible('h1:text-is("Ihre Benutzer")'), 'the users page in German');
  await check(page, 'admin-users-de');
  await page.goto(`${BASE}/admin/policy`);
  expect(await page.isVisible('text=Richtlinie der zweistufigen Anmeldung'), 'the choice is remembered');
  await check(page, 'admin-policy-de');
  await page.goto(`${BASE}/admin/audit`);
  expect(await page.isVisible('text=hat den TOTP-Schlüssel von alice widerrufen'), 'the audit log as German sentences');
  await check(page, 'admin-audit-de');
  await page.goto(`${BASE}/admin?lang=en`);
});

await flow(browser, 'an OpenID Connect sign-in with consent', async (page) => {
  const query = new URLSearchParams({
    client_id: CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid profile email',
    state: 'st4te', nonce: 'n0nce',
  });
  await page.goto(`${BASE}/authorize?${query}`);
  expect(await page.isVisible('text=Sign in to Grafana'), 'the application is named');
  await signIn(page, 'carol');
  await check(page, 'consent');
  // The answer sends the browser to the application (which does not exist here).
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${BASE}/authorize/consent`)),
    page.click('button[value=allow]'),
  ]);
  const returned = answer.headers().location || '';
  expect(returned.startsWith(REDIRECT) && new URL(returned).searchParams.get('code'), `a code for the client: ${returned}`);
  expect(new URL(returned).searchParams.get('state') === 'st4te', 'state returned');
});

await flow(browser, 'a relying-party library (oauth4webapi): PAR, PKCE and DPoP, then userinfo and a refresh', async (page) => {
  // Every request and check below is oauth4webapi's, not ours; http is allowed for the test only.
  const insecure = { [oauth.allowInsecureRequests]: true };
  const issuer = new URL(BASE);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: PUBLIC_CLIENT_ID };
  const auth = oauth.None();
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  const verifier = oauth.generateRandomCodeVerifier();
  const pushed = await oauth.pushedAuthorizationRequest(as, client, auth, {
    redirect_uri: REDIRECT, response_type: 'code', scope: 'openid profile', state: 'pushed',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }, { ...insecure, DPoP });
  const { request_uri } = await oauth.processPushedAuthorizationResponse(as, client, pushed);
  await page.goto(`${BASE}/authorize?${new URLSearchParams({ client_id: PUBLIC_CLIENT_ID, request_uri })}`);
  await page.fill('#username', 'carol');
  await page.fill('#password', PASSWORD);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${BASE}/login/password`)),
    page.locator('form[action^="/login/password"] button[type=submit]').first().click(),
  ]);
  const returned = new URL(answer.headers().location || 'about:blank');
  const params = oauth.validateAuthResponse(as, client, returned, 'pushed');
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, verifier, { ...insecure, DPoP }),
    { expectedNonce: oauth.expectNoNonce, requireIdToken: true });
  expect(tokens.token_type === 'dpop', `a DPoP-bound token, got ${tokens.token_type}`);
  const { sub } = oauth.getValidatedIdTokenClaims(tokens);
  const info = await oauth.processUserInfoResponse(as, client, sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, { ...insecure, DPoP }));
  expect(info.preferred_username === 'carol', `userinfo for carol: ${JSON.stringify(info)}`);
  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, { ...insecure, DPoP }));
  expect(refreshed.token_type === 'dpop' && refreshed.access_token !== tokens.access_token, 'a new bound token');
  // Without the key, the refresh token is worth nothing.
  const stolen = await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token, insecure);
  expect(stolen.status === 400 && (await stolen.json()).error === 'invalid_dpop_proof', 'refused without the key');
});

await flow(browser, 'a lockout after five wrong codes', async (page) => {
  await page.goto(`${BASE}/account?tenant=acme`);
  await signIn(page, 'dave');
  for (let i = 0; i < 5; i += 1) {
    await page.fill('#code', '000000');
    await submit(page, '/login/totp');
  }
  expect(await page.isVisible('text=Too many attempts'), 'stopped');
  expect(await page.isVisible('text=refused for 15 minutes more'), 'the lock and its length are stated');
  await check(page, 'locked');
});

await flow(browser, 'the sign-in pages in German, and the switch back to English', async (page) => {
  const query = new URLSearchParams({
    client_id: CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid',
    state: 's', nonce: 'n', ui_locales: 'de',
  });
  await page.goto(`${BASE}/authorize?${query}`);
  expect(await page.getAttribute('html', 'lang') === 'de', 'the page says it is German');
  expect(await page.isVisible('text=Bei Grafana anmelden'), 'in German');
  await check(page, 'sign-in-de');
  await page.fill('#username', 'dave');
  await page.fill('#password', PASSWORD);
  await submit(page, '/login/password');
  expect(await page.isVisible('text=Zweistufige Anmeldung'), 'the code page in German');
  await check(page, 'code-de');
  await Promise.all([page.waitForNavigation(), page.click('a[hreflang=en]')]);
  expect(await page.isVisible('text=Two-step verification'), 'switched to English');
});

await flow(browser, 'an expired sign-in link', async (page) => {
  await page.goto(`${BASE}/login?flow=gone`);
  expect(await page.isVisible('text=Your sign-in has expired'), 'said so');
  await check(page, 'expired');
});

await browser.close();
console.log(`${pagesChecked} pages checked`);
if (failures.length > 0) {
  console.error(`\n${failures.length} failure(s):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
console.log('browser suite: all green');
