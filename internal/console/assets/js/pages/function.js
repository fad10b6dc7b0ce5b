// A function's page: invocations, errors and duration graphs, its
// configuration, and its log with a live tail.

import { api, path } from '../api.js';
import { app } from '../app.js';
import { h, fill, bytes, number, badge, stateKind, tabs } from '../dom.js';
import { graphsView, logView, cloudWatchLog } from '../views.js';

export async function render(main, [name], params) {
  const fn = await api(path`/functions/${name}`);
  const c = fn.configuration;
  const panel = h('div', { id: 'tabpanel', role: 'tabpanel' });
  const items = [{ id: 'log', label: 'Log' }, { id: 'configuration', label: 'Configuration' }];
  if (app.features.metrics) items.splice(1, 0, { id: 'graphs', label: 'Graphs' });
  let tab = items.some((t) => t.id === params.get('tab')) ? params.get('tab') : 'log';
  let destroy = null;
  const tablist = tabs('Function sections', items, tab, (id) => {
    tab = id;
    history.replaceState(null, '', `${location.pathname}?tab=${id}`);
    show();
  });
  fill(main,
    h('div', { class: 'head' }, h('h1', {}, name), badge(c.State || '—', stateKind(c.State))),
    h('p', { class: 'muted small mono' }, c.FunctionArn),
    h('dl', { class: 'facts' },
      fact('Runtime', c.Runtime || '—'), fact('Handler', c.Handler || '—'), fact('Memory', `${number(c.MemorySize)} MB`),
      fact('Timeout', `${number(c.Timeout)} s`), fact('Instances', `${number(fn.instances)} (${number(fn.idle)} idle)`)),
    tablist.el, panel);

  function show() {
    if (destroy) destroy();
    destroy = null;
    panel.setAttribute('aria-labelledby', `tab-${tab}`);
    if (tab === 'graphs') {
      const v = graphsView((range) => api(`${path`/functions/${name}/graphs`}?range=${range}`), 'Function graphs');
      fill(panel, v.el);
      destroy = v.destroy;
    } else if (tab === 'configuration') {
      fill(panel, configuration(c));
    } else {
      // CloudWatch Logs keeps the function's log across restarts; without
      // it, the lambda service's recent lines are what there is.
      const v = app.features.logs ? cloudWatchLog(`Log of ${name}`, fn.logGroup) : logView(`Log of ${name}`, async (cursor) => {
        const q = cursor ? `?since=${cursor.since}&seen=${cursor.seen}` : '';
        const page = await api(`${path`/functions/${name}/logs`}${q}`);
        return { events: page.events, cursor: { since: page.since, seen: page.seen } };
      });
      fill(panel, h('p', { class: 'muted small' }, app.features.logs ? `Log group ${fn.logGroup}: ` : 'Recent log lines: ',
        'what the function printed, framed by START, END and REPORT lines.'), v.el);
      destroy = v.destroy;
    }
  }
  show();
  return () => {
    if (destroy) destroy();
  };
}

function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

function configuration(c) {
  const env = c.Environment && c.Environment.Variables ? Object.entries(c.Environment.Variables) : [];
  const rows = [
    ['Description', c.Description || '(none)'],
    ['Role', c.Role || '(none)'],
    ['Package type', c.PackageType || 'Zip'],
    ['Code size', bytes(c.CodeSize)],
    ['Code SHA-256', c.CodeSha256 || '—'],
    ['Architectures', (c.Architectures || []).join(', ') || '—'],
    ['Ephemeral storage', c.EphemeralStorage ? `${number(c.EphemeralStorage.Size)} MB` : '—'],
    ['Last modified', c.LastModified || '—'],
    ['Version', c.Version || '$LATEST'],
    ['Environment', env.length === 0 ? '(none)' : h('ul', {}, env.map(([k, v]) => h('li', {}, h('code', {}, k), ' = ', h('code', {}, v))))],
  ];
  return h('div', {},
    h('div', { class: 'panel' }, h('dl', { class: 'config' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('details', { class: 'panel' }, h('summary', {}, 'Raw JSON (GetFunctionConfiguration)'),
      h('pre', { class: 'raw', tabindex: 0 }, JSON.stringify(c, null, 2))));
}
