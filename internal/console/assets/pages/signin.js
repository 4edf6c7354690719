import { h, api } from '../app.js';

export function renderSignIn(main, done) {
  const err = h('p', { class: 'error', id: 'signin-error' });
  const id = h('input', { id: 'secret-id', autocomplete: 'username', spellcheck: 'false', required: true });
  const key = h('input', { id: 'secret-key', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card signin', id: 'signin' },
    h('h1', {}, 'Sign in to trtcd'),
    h('p', { class: 'muted' }, 'Use an account\'s SecretId and SecretKey, as your backend signs API calls with. The key is checked by the server and not kept by the browser.'),
    h('label', { for: 'secret-id' }, 'SecretId'), id,
    h('label', { for: 'secret-key' }, 'SecretKey'), key,
    h('p', {}, h('button', { class: 'primary', id: 'signin-submit', type: 'submit' }, 'Sign in')),
    err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const s = await api('signin', { secretId: id.value.trim(), secretKey: key.value });
      key.value = '';
      done(s);
    } catch (e) {
      key.value = '';
      err.textContent = e.message;
    }
  });
  main.append(form);
  id.focus();
}
