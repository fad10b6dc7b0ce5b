// Alarms: their states, history and thresholds drawn on their metric's
// graph; a state can be set by hand (CloudWatch's SetAlarmState, to test
// the alarm's actions).

import { api, base, path } from '../api.js';
import { app } from '../app.js';
import { h, fill, ago, when, badge, stateKind, table, errorBox, poll } from '../dom.js';
import { timeChart } from '../chart.js';

const operators = {
  GreaterThanOrEqualToThreshold: '≥', GreaterThanThreshold: '>', LessThanThreshold: '<', LessThanOrEqualToThreshold: '≤',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside', LessThanLowerThreshold: '< lower', GreaterThanUpperThreshold: '> upper',
};

function condition(a) {
  const stat = a.Statistic || a.ExtendedStatistic || 'expression';
  const metric = a.MetricName ? `${a.Namespace} ${a.MetricName}` : 'metric math';
  const th = a.Threshold === undefined || a.Threshold === null ? '' : ` ${operators[a.ComparisonOperator] || a.ComparisonOperator} ${a.Threshold}`;
  return `${stat} of ${metric}${th} for ${a.DatapointsToAlarm || a.EvaluationPeriods} of ${a.EvaluationPeriods} × ${a.Period || 60} s`;
}

export async function renderList(main) {
  if (!app.features.alarms) {
    fill(main, h('h1', {}, 'Alarms'), h('p', { class: 'notice' }, 'CloudWatch alarms are not served by this hydrant.'));
    return null;
  }
  const list = h('div');
  async function load() {
    const res = await api('/alarms');
    fill(list, res.alarms.length === 0 ? h('p', { class: 'empty' }, 'No alarms yet: create one with aws cloudwatch put-metric-alarm.') :
      table('Alarms', ['Alarm', 'State', 'Condition', 'Dimensions', 'Since'], res.alarms.map((a) => h('tr', {},
        h('td', {}, h('a', { href: `${base}${path`/alarms/${a.AlarmName}`}` }, a.AlarmName)),
        h('td', {}, badge(a.StateValue, stateKind(a.StateValue))), h('td', { class: 'wrap' }, condition(a)),
        h('td', { class: 'wrap' }, (a.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(', ')),
        h('td', {}, ago(a.StateUpdatedTimestamp)))), 'cards'));
  }
  fill(main, h('h1', {}, 'Alarms'), list);
  await load();
  return poll(load, 10000);
}

export async function renderOne(main, [name], params) {
  if (!app.features.alarms) {
    fill(main, h('h1', {}, name), h('p', { class: 'notice' }, 'CloudWatch alarms are not served by this hydrant.'));
    return null;
  }
  const head = h('div');
  const plot = h('div', { class: 'plot', id: 'alarm-chart' });
  const history = h('div');
  const msg = h('p', { role: 'status', 'aria-live': 'polite', class: 'small' });
  const state = h('select', { id: 'set-state' }, ['ALARM', 'OK', 'INSUFFICIENT_DATA'].map((s) => h('option', { value: s }, s)));
  const reason = h('input', { id: 'set-reason', placeholder: 'reason', value: 'Set from the hydrant console' });
  let chart = null;
  let range = params.get('range') || '3h';

  async function load() {
    const page = await api(`${path`/alarms/${name}`}?range=${range}`);
    const a = page.alarm;
    fill(head,
      h('div', { class: 'head' }, h('h1', {}, a.AlarmName), badge(a.StateValue, stateKind(a.StateValue))),
      a.AlarmDescription ? h('p', {}, a.AlarmDescription) : null,
      h('p', {}, h('strong', {}, 'Condition: '), condition(a)),
      h('p', {}, h('strong', {}, 'Reason: '), a.StateReason, ' ', h('span', { class: 'muted small' }, `(${ago(a.StateUpdatedTimestamp)})`)),
      h('p', { class: 'muted small' }, 'Actions: ', a.ActionsEnabled ? [...(a.AlarmActions || []), ...(a.OKActions || [])].join(', ') || 'none' : 'disabled'));
    const g = page.graph;
    if (chart) chart.destroy();
    fill(plot);
    const c = g.charts[0];
    chart = timeChart(plot, { x: g.x, lines: c.lines, unit: c.unit, threshold: c.threshold, height: 260 });
    fill(history, page.history.length === 0 ? h('p', { class: 'empty' }, 'No history yet.') :
      table('Alarm history', ['Time', 'Type', 'Summary'], page.history.map((it) => h('tr', {},
        h('td', {}, when(it.Timestamp)), h('td', {}, it.HistoryItemType), h('td', { class: 'wrap' }, it.HistorySummary)))));
  }

  async function setState(e) {
    e.preventDefault();
    try {
      await api(path`/alarms/${name}/state`, { method: 'POST', body: { state: state.value, reason: reason.value } });
      fill(msg, `State set to ${state.value} until the next evaluation.`);
      await load();
    } catch (err) {
      fill(msg, errorBox(err));
    }
  }

  const rangeSel = h('select', { id: 'alarm-range' }, [['1h', '1 hour'], ['3h', '3 hours'], ['24h', '24 hours'], ['7d', '7 days']].map(([v, t]) => h('option', { value: v, selected: v === range }, t)));
  rangeSel.addEventListener('change', () => {
    range = rangeSel.value;
    load().catch((err) => fill(msg, errorBox(err)));
  });

  fill(main, head,
    h('section', { class: 'panel chart', 'aria-labelledby': 'metric-h' },
      h('div', { class: 'row spread' }, h('h2', { id: 'metric-h' }, 'Metric and threshold'),
        h('div', { class: 'row' }, h('label', { for: 'alarm-range' }, 'Range'), rangeSel)), plot),
    h('div', { class: 'cols' },
      h('section', { 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, 'History'), history),
      h('form', { class: 'panel stack', onsubmit: setState, 'aria-labelledby': 'set-h' },
        h('h2', { id: 'set-h' }, 'Set state'),
        h('p', { class: 'muted small' }, 'SetAlarmState: the alarm takes this state, and runs its actions, until it is evaluated again.'),
        h('div', { class: 'field' }, h('label', { for: 'set-state' }, 'State'), state),
        h('div', { class: 'field' }, h('label', { for: 'set-reason' }, 'Reason'), reason),
        h('button', { type: 'submit', class: 'primary' }, 'Set state'), msg)));
  await load();
  const stop = poll(load, 15000);
  return () => {
    stop();
    if (chart) chart.destroy();
  };
}
