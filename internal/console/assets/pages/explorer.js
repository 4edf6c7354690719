import { h, api, call } from '../app.js';

function inputFor(p) {
  const attrs = { 'data-param': p.Name, 'data-type': p.Type, id: 'param-' + p.Name };
  if (p.Type === 'Integer') return h('input', { ...attrs, inputmode: 'numeric', placeholder: 'integer' });
  if (p.Type === 'Array of String') return h('input', { ...attrs, placeholder: 'comma-separated, e.g. user1,user2' });
  return h('input', { ...attrs, placeholder: 'string' });
}

export async function renderExplorer(main, selected) {
  const cat = await api('actions');
  const actions = cat.actions;
  const pick = h('select', { id: 'action' }, actions.map((a) => h('option', { value: a.Name, selected: a.Name === selected }, a.Name + (a.Admin ? ' (trtcd admin)' : ''))));
  const fields = h('div', { class: 'row', id: 'params' });
  const region = h('select', { id: 'region' });
  const out = h('div', { id: 'explorer-out' });
  const cur = () => actions.find((a) => a.Name === pick.value);
  function build() {
    const a = cur();
    fields.replaceChildren(...a.Params.map((p) => h('div', {}, h('label', { for: 'param-' + p.Name }, p.Name + ' (' + p.Type + ')'), inputFor(p))));
    if (!a.Params.length) fields.append(h('p', { class: 'muted' }, 'This action has no parameters.'));
    region.replaceChildren(...(a.Regions && a.Regions.length ? a.Regions : ['']).map((r) =>
      h('option', { value: r, selected: r === cat.defaultRegion }, r || '(none)')));
  }
  pick.addEventListener('change', build);
  build();
  const form = h('form', { class: 'card', onsubmit: async (ev) => {
    ev.preventDefault();
    const params = {};
    for (const el of fields.querySelectorAll('[data-param]')) {
      const v = el.value.trim();
      if (v === '') continue;
      const t = el.dataset.type;
      params[el.dataset.param] = t === 'Integer' && /^\d+$/.test(v) ? Number(v) : t === 'Array of String' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
    }
    out.replaceChildren(h('p', { class: 'muted' }, 'Calling…'));
    try {
      const r = await call(pick.value, params, region.value);
      const hdrs = Object.entries(r.request.headers).sort().map(([k, v]) => k + ': ' + v).join('\n');
      const err = r.response.Error;
      out.replaceChildren(h('div', { class: 'grid2' },
        h('div', {}, h('h2', {}, 'Request (signed by the server as ' + r.request.headers.Authorization.split('Credential=')[1].split('/')[0] + ')'),
          h('pre', { id: 'request' }, r.request.method + ' ' + r.request.url + '\n' + hdrs + '\n\n' + r.request.body)),
        h('div', {}, h('h2', {}, 'Answer ', err ? h('span', { class: 'code-err' }, err.Code) : h('span', { class: 'code-ok' }, 'OK')),
          h('pre', { id: 'response' }, JSON.stringify({ Response: r.response }, null, 2)))),
        h('h2', {}, 'The same from a shell'), h('pre', { id: 'cli' }, r.cli),
        h('h2', {}, 'The same with the Go SDK (tencentcloud-sdk-go, trtc v20190722)'),
        r.go ? h('pre', { id: 'go-sdk' }, r.go) : h('p', { class: 'muted', id: 'go-sdk-none' }, 'trtcd\'s own admin actions have no client in the official SDK.'));
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  } },
  h('div', { class: 'row' }, h('div', {}, h('label', { for: 'action' }, 'Action'), pick), h('div', {}, h('label', { for: 'region' }, 'Region'), region)),
  fields, h('p', {}, h('button', { class: 'primary', id: 'send', type: 'submit' }, 'Send')));
  main.append(h('h1', {}, 'API explorer'),
    h('p', { class: 'muted' }, 'Calls an action as your account: the server signs the request with your key (TC3-HMAC-SHA256) and sends it through the API front door, so rate limits, faults and the journal apply.'),
    form, out);
}
