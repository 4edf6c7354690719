import { h, state, call, fmtTime, codeSpan } from '../app.js';

// firstDiff is the index of the first line where a and b differ, -1 if none.
export function firstDiff(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i;
  return -1;
}

function lines(text, mark) {
  return h('pre', { class: 'canonical' }, text.split('\n').map((l, i) => h('span', { class: i === mark ? 'line diff' : 'line' }, l === '' ? ' ' : l)));
}

function details(e) {
  const box = h('div', { class: 'details' },
    h('h2', {}, 'Parameters'), h('pre', { class: 'params' }, e.Params ? JSON.stringify(e.Params, null, 2) : '(none)'),
    e.Message ? [h('h2', {}, 'Message'), h('p', {}, e.Message)] : null);
  if (e.Fault) box.append(h('p', { class: 'note' }, 'This answer was injected by fault ' + e.Fault + '.'));
  const s = e.Signature;
  if (s) {
    const canonBox = h('div', { id: 'server-canonical' }, lines(s.CanonicalRequest || s.StringToSign, -1));
    const paste = h('textarea', { id: 'paste-canonical', rows: 7, placeholder: 'Paste the canonical request your client built, to find the first line that differs' });
    const verdict = h('p', { id: 'diff-verdict' });
    const compare = h('button', { id: 'compare', onclick: () => {
      const server = s.CanonicalRequest || s.StringToSign;
      const i = firstDiff(server, paste.value.replace(/\r\n/g, '\n'));
      canonBox.replaceChildren(lines(server, i));
      verdict.textContent = i < 0 ? 'They are the same: the key, the date or the service in the credential scope differs.'
        : 'Line ' + (i + 1) + ' differs: the server has "' + (server.split('\n')[i] ?? '') + '", yours has "' + (paste.value.split(/\r?\n/)[i] ?? '(nothing)') + '".';
    } }, 'Compare');
    box.append(...[h('h2', {}, 'Signature diagnostics (' + s.Algorithm + ')'),
      h('p', { class: 'muted' }, 'What the server computed. The cloud would only say AuthFailure.SignatureFailure.'),
      s.SignedHeaders ? h('p', {}, 'Signed headers: ', h('code', {}, s.SignedHeaders.join(';')), s.CredentialScope ? ' · credential scope ' : '', s.CredentialScope ? h('code', {}, s.CredentialScope) : '') : null,
      h('div', { class: 'grid2' },
        h('div', {}, h('label', {}, s.CanonicalRequest ? 'Canonical request (server)' : 'String to sign (server)'), canonBox),
        h('div', {}, h('label', {}, 'Yours'), paste, h('p', {}, compare), verdict)),
      ...(s.CanonicalRequest ? [h('label', {}, 'String to sign (server)'), h('pre', { id: 'string-to-sign' }, s.StringToSign)] : [])].filter(Boolean));
  }
  return box;
}

export async function renderJournal(main) {
  main.append(h('h1', {}, 'Request journal'));
  if (!state.session.journal) {
    main.append(h('p', { class: 'note' }, 'The journal is off on this server: set devtools.journal: true in its configuration.'));
    return;
  }
  const action = h('input', { id: 'filter-action', placeholder: 'any action' });
  const code = h('input', { id: 'filter-code', placeholder: 'any code (OK for successes)' });
  const body = h('tbody');
  const status = h('span', { class: 'muted' });
  async function load() {
    const params = { Limit: 100 };
    if (action.value.trim()) params.Action = action.value.trim();
    if (code.value.trim()) params.Code = code.value.trim();
    const out = await call('DescribeApiJournal', params);
    const r = out.response;
    if (r.Error) { status.textContent = r.Error.Code + ': ' + r.Error.Message; return; }
    status.textContent = r.TotalCount + ' call(s) shown, newest first; the journal keeps the last ' + r.Capacity + ' of this server.';
    body.replaceChildren(...r.Entries.flatMap((e) => {
      const more = h('tr', { hidden: true }, h('td', { colspan: 6 }, details(e)));
      const row = h('tr', { class: 'clickable' + (e.Fault ? ' fault' : '') + (e.Signature ? ' sigfail' : ''), 'data-request': e.RequestId, onclick: () => { more.hidden = !more.hidden; } },
        h('td', {}, fmtTime(e.Time)), h('td', {}, e.Action), h('td', {}, codeSpan(e.Code), e.Fault ? ' ' : '', e.Fault ? h('span', { class: 'badge' }, 'fault ' + e.Fault) : ''),
        h('td', {}, e.LatencyMs.toFixed(1) + ' ms'), h('td', { class: 'muted' }, e.SecretId), h('td', { class: 'muted' }, e.RequestId));
      return [row, more];
    }));
    if (!r.Entries.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No calls match.')));
  }
  const form = h('form', { class: 'row card', onsubmit: (ev) => { ev.preventDefault(); load(); } },
    h('div', {}, h('label', {}, 'Action'), action), h('div', {}, h('label', {}, 'Code'), code),
    h('div', {}, h('button', { class: 'primary', id: 'journal-refresh', type: 'submit' }, 'Show')));
  main.append(form, h('p', {}, status),
    h('table', { id: 'journal' }, h('thead', {}, h('tr', {}, ['Time', 'Action', 'Code', 'Latency', 'SecretId', 'RequestId'].map((t) => h('th', {}, t)))), body));
  await load();
}
