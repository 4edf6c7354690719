import { h, state, api, call, fmtTime } from '../app.js';

export async function renderFaults(main) {
  main.append(h('h1', {}, 'Fault injection'));
  if (!state.session.faults) {
    main.append(h('p', { class: 'note' }, 'Fault injection is off on this server: set devtools.faults: true in its configuration.'));
    return;
  }
  const cat = await api('actions');
  const targets = cat.actions.filter((a) => !a.Admin).map((a) => a.Name);
  const action = h('select', { id: 'fault-action' }, targets.map((n) => h('option', { value: n }, n)));
  const code = h('input', { id: 'fault-code', value: 'InternalError', list: 'codes' });
  const codes = h('datalist', { id: 'codes' }, ['InternalError', 'RequestLimitExceeded', 'FailedOperation.RoomNotExist', 'AuthFailure.SignatureFailure', 'ServiceUnavailable'].map((c) => h('option', { value: c })));
  const mode = h('select', { id: 'fault-mode' }, h('option', { value: 'count' }, 'the next N calls'), h('option', { value: 'percent' }, 'N % of calls'), h('option', { value: 'all' }, 'every call'));
  const n = h('input', { id: 'fault-n', value: '1', size: 6 });
  const latency = h('input', { id: 'fault-latency', placeholder: '0', size: 8 });
  const ttl = h('input', { id: 'fault-ttl', value: '600', size: 8 });
  const msg = h('p', { id: 'fault-result' });
  const body = h('tbody');
  async function load() {
    const r = (await call('DescribeFaults', {})).response;
    if (r.Error) { msg.textContent = r.Error.Code + ': ' + r.Error.Message; return; }
    body.replaceChildren(...r.Faults.map((f) => h('tr', { 'data-fault': f.FaultId },
      h('td', {}, f.FaultId), h('td', {}, f.Action), h('td', {}, f.Code || '—'),
      h('td', {}, f.Remaining ? 'next ' + f.Remaining : f.Percent ? f.Percent + ' %' : 'every call'),
      h('td', {}, f.LatencyMs ? f.LatencyMs + ' ms' : '—'), h('td', {}, String(f.Injected)), h('td', {}, fmtTime(f.ExpiresAt)),
      h('td', {}, h('button', { class: 'small', onclick: async () => { await call('DeleteFaults', { FaultId: f.FaultId }); load(); } }, 'Clear')))));
    if (!r.Faults.length) body.append(h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No faults set.')));
  }
  const form = h('form', { class: 'card', onsubmit: async (ev) => {
    ev.preventDefault();
    const p = { Action: action.value };
    if (code.value.trim()) p.Code = code.value.trim();
    if (mode.value === 'count') p.Count = Number(n.value);
    if (mode.value === 'percent') p.Percent = Number(n.value);
    if (latency.value.trim()) p.LatencyMs = Number(latency.value);
    if (ttl.value.trim()) p.TtlSeconds = Number(ttl.value);
    const r = (await call('CreateFault', p)).response;
    msg.className = r.Error ? 'error' : 'note';
    msg.textContent = r.Error ? r.Error.Code + ': ' + r.Error.Message : 'Fault ' + r.Fault.FaultId + ' set: ' + p.Action + ' answers ' + (p.Code || 'as usual') + '.';
    load();
  } },
  h('div', { class: 'row' },
    h('div', {}, h('label', {}, 'Action'), action), h('div', {}, h('label', {}, 'Answer code'), code, codes),
    h('div', {}, h('label', {}, 'Which calls'), mode), h('div', {}, h('label', {}, 'N'), n),
    h('div', {}, h('label', {}, 'Added latency (ms)'), latency), h('div', {}, h('label', {}, 'Expires after (s)'), ttl),
    h('div', {}, h('button', { class: 'primary', id: 'fault-set', type: 'submit' }, 'Set fault'))), msg);
  main.append(h('p', { class: 'muted' }, 'Faults apply to your account\'s calls on this server, from any client (SDKs included), and are marked in the journal and the logs.'),
    form,
    h('div', { class: 'toolbar' }, h('h2', {}, 'Active faults'), h('span', { class: 'spacer' }),
      h('button', { id: 'faults-clear-all', onclick: async () => { await call('DeleteFaults', {}); load(); } }, 'Clear all')),
    h('table', { id: 'faults-table' }, h('thead', {}, h('tr', {}, ['Id', 'Action', 'Code', 'Calls', 'Latency', 'Injected', 'Expires', ''].map((t) => h('th', {}, t)))), body));
  await load();
}
