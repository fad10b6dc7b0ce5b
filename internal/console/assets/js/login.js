// The login page: a key pair from the server's credentials file, checked
// once; the session cookie does the rest.

const base = '/_hydrant/ui';
const form = document.getElementById('login');
const error = document.getElementById('error');
const submit = document.getElementById('submit');

/** Where to go after logging in: a console page, never elsewhere. */
function next() {
  const n = new URLSearchParams(location.search).get('next') || '';
  return n.startsWith(`${base}/`) && !n.startsWith('//') && !n.includes('\\') ? n : `${base}/`;
}

async function check() {
  const r = await fetch(`${base}/api/session`, { credentials: 'same-origin', cache: 'no-store' });
  const s = await r.json();
  if (!s.loginRequired || s.authenticated) location.replace(next());
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  const body = {
    accessKeyId: form.accessKeyId.value.trim(),
    secretAccessKey: form.secretAccessKey.value,
  };
  if (form.sessionToken.value.trim()) body.sessionToken = form.sessionToken.value.trim();
  try {
    const r = await fetch(`${base}/api/login`, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
    location.replace(next());
  } catch (err) {
    error.textContent = `Login refused: ${err.message}`;
    error.hidden = false;
    form.secretAccessKey.focus();
    form.secretAccessKey.select();
  } finally {
    submit.disabled = false;
  }
});

check().catch(() => {});
form.accessKeyId.focus();
