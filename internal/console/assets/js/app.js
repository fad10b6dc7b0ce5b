// The console's shell: session, navigation between pages without
// reloading (links stay real links), the health badge.

import { api, base, setCSRF, toLogin } from './api.js';
import { fill, errorBox, h, setText } from './dom.js';
// Each page's module is loaded when it is first shown: the overview does
// not wait for the chart library or the query editor.
const routes = [
  [/^\/?$/, () => import('./pages/overview.js'), 'render', 'overview'],
  [/^\/streams\/([^/]+)$/, () => import('./pages/stream.js'), 'render', 'overview'],
  [/^\/functions\/([^/]+)$/, () => import('./pages/function.js'), 'render', 'overview'],
  [/^\/query$/, () => import('./pages/query.js'), 'render', 'query'],
  [/^\/dashboards$/, () => import('./pages/dashboards.js'), 'renderList', 'dashboards'],
  [/^\/dashboards\/([^/]+)$/, () => import('./pages/dashboards.js'), 'renderOne', 'dashboards'],
  [/^\/alarms$/, () => import('./pages/alarms.js'), 'renderList', 'alarms'],
  [/^\/alarms\/([^/]+)$/, () => import('./pages/alarms.js'), 'renderOne', 'alarms'],
];

/** What every page may read: the session and which pages this hydrant has. */
export const app = { features: {}, session: {}, health: null, summary: null };

const main = document.getElementById('main');
let cleanup = null;

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const rel = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname;
  const params = new URLSearchParams(location.search);
  for (const [re, load, fn, nav] of routes) {
    const m = rel.match(re);
    if (!m) continue;
    markNav(nav);
    const args = m.slice(1).map(decodeURIComponent);
    try {
      const page = await load();
      cleanup = (await page[fn](main, args, params)) || null;
    } catch (e) {
      fill(main, errorBox(e));
    }
    const h1 = main.querySelector('h1');
    if (h1) document.title = `${h1.textContent} · hydrant`;
    return;
  }
  markNav('');
  fill(main, h('h1', {}, 'Not found'), h('p', {}, 'No console page at ', h('code', {}, location.pathname), '. ',
    h('a', { href: `${base}/` }, 'Back to the overview'), '.'));
}

function markNav(which) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === which) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const [feature, nav] of [['query', 'query'], ['alarms', 'alarms'], ['query', 'dashboards']]) {
    const a = document.querySelector(`[data-nav="${nav}"]`);
    if (a) a.parentElement.hidden = !app.features[feature];
  }
}

/** Navigates within the console. */
export function go(url, replace = false) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route().then(() => main.focus({ preventScroll: false }));
}

/** Shows the server's health in the top bar. */
export function showHealth(health) {
  const el = document.getElementById('health');
  if (!el || !health) return;
  const ok = health.status === 'ok';
  el.className = `badge ${ok ? 'ok' : health.status === 'starting' ? 'warn' : 'bad'}`;
  setText(el, `health: ${health.status}`);
  el.title = (health.reasons || []).join('\n');
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(`${base}/`) || url.pathname.startsWith(`${base}/api/`) ||
      url.pathname.startsWith(`${base}/assets/`) || url.pathname === `${base}/login`) return;
  e.preventDefault();
  if (url.pathname === location.pathname && url.search === location.search && url.hash) {
    location.hash = url.hash;
    return;
  }
  go(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => route());

async function start() {
  let ses;
  try {
    ses = await api('/session');
  } catch (e) {
    fill(main, errorBox(e));
    return;
  }
  if (ses.loginRequired && !ses.authenticated) {
    toLogin();
    return;
  }
  app.session = ses;
  setCSRF(ses.csrf);
  if (ses.user) setText(document.getElementById('user'), ses.user);
  const logout = document.getElementById('logout');
  if (ses.loginRequired) {
    logout.hidden = false;
    logout.addEventListener('click', async () => {
      try {
        await api('/logout', { method: 'POST' });
      } finally {
        location.assign(`${base}/login`);
      }
    });
  }
  try {
    const s = await api('/summary');
    app.features = s.features;
    app.summary = s; // the overview's first rows
    showHealth(s.health);
  } catch (e) {
    fill(main, errorBox(e));
    return;
  }
  await route();
}

start();
