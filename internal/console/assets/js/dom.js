// Small DOM helpers: elements are built with text nodes only (never HTML
// strings), so nothing a record or a log holds can become markup.

/**
 * Creates an element: h('a', {href: '/x', class: 'y'}, 'text', child).
 * Attributes starting with "on" take listeners; true/false toggle boolean
 * attributes; null and undefined are skipped, as are null children.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Sets text only when it changed (live tables touch few nodes). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function number(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A duration in seconds, short: "45 s", "12 min", "3.5 h". */
export function seconds(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** "3 min ago" for a time (string, number of ms, or Date). */
export function ago(t, now = Date.now()) {
  if (!t) return '—';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (Number.isNaN(ms)) return '—';
  const s = Math.max(0, (now - ms) / 1000);
  return s < 2 ? 'just now' : `${seconds(s)} ago`;
}

/** A time as the user's local date and time. */
export function when(t) {
  if (!t) return '—';
  const d = typeof t === 'number' ? new Date(t) : new Date(t);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

export function time(t) {
  const d = typeof t === 'number' ? new Date(t) : new Date(t);
  return h('time', { datetime: d.toISOString() }, d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0'));
}

/**
 * A table wrapped for horizontal scrolling, reachable by keyboard. Each
 * cell is labelled with its column's heading (data-label), which the
 * "cards" layout shows on narrow screens.
 */
export function table(label, head, rows, cls = '') {
  const heads = head.map((c) => (typeof c === 'string' ? h('th', { scope: 'col' }, c) : c));
  labelCells(heads.map((th) => th.textContent), rows);
  return h('div', { class: `table-wrap ${cls}`, role: 'region', 'aria-label': label, tabindex: 0 },
    h('table', {}, h('thead', {}, h('tr', {}, heads)), h('tbody', {}, rows)));
}

/** Sets data-label on each cell of rows from the column names. */
export function labelCells(names, rows) {
  for (const tr of rows) {
    [...tr.children].forEach((cell, i) => {
      if (names[i] && cell.colSpan === 1) cell.dataset.label = names[i];
    });
  }
}

/** A status badge: kind is ok, warn, bad or info. */
export function badge(text, kind) {
  return h('span', { class: `badge ${kind}` }, text);
}

export function stateKind(state) {
  switch (state) {
    case 'ACTIVE': case 'OK': case 'Active': case 'ok': case 'SUCCEEDED': return 'ok';
    case 'CREATING': case 'DELETING': case 'INSUFFICIENT_DATA': case 'Pending': case 'starting': case 'RUNNING': case 'QUEUED': return 'warn';
    case 'ALARM': case 'Failed': case 'unready': case 'FAILED': case 'CANCELLED': return 'bad';
    default: return 'info';
  }
}

/** Shows an error where the page would be. */
export function errorBox(err) {
  return h('p', { class: 'alert', role: 'alert' }, err && err.message ? err.message : String(err));
}

/** Pretty-prints text that is JSON; other text as it is. */
export function pretty(text) {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      // not JSON after all
    }
  }
  return text;
}

/**
 * Tabs with the ARIA tab pattern: arrow keys move between them. onSelect
 * gets the chosen id. Returns {el, select}.
 */
export function tabs(label, items, current, onSelect) {
  const list = h('div', { role: 'tablist', 'aria-label': label });
  const buttons = items.map((it) => h('button', {
    type: 'button', role: 'tab', id: `tab-${it.id}`, 'aria-controls': 'tabpanel',
    'aria-selected': it.id === current ? 'true' : 'false', tabindex: it.id === current ? 0 : -1,
    onclick: () => select(it.id),
  }, it.label));
  list.append(...buttons);
  list.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % buttons.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + buttons.length) % buttons.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = buttons.length - 1;
    if (j >= 0) {
      e.preventDefault();
      buttons[j].focus();
      select(items[j].id);
    }
  });
  function select(id) {
    for (const [k, b] of buttons.entries()) {
      const on = items[k].id === id;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
    }
    onSelect(id);
  }
  return { el: list, select };
}

/**
 * Polls fn every ms (the first time after firstMs) while the page is
 * visible, until the returned stop() is called. fn may be async; a slow
 * call delays the next.
 */
export function poll(fn, ms, firstMs = ms) {
  let timer = 0;
  let stopped = false;
  async function tick() {
    if (stopped) return;
    if (!document.hidden) {
      try {
        await fn();
      } catch (e) {
        if (!stopped) console.warn('poll', e);
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  }
  timer = setTimeout(tick, firstMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
