// The few lines of browser code a passkey ceremony needs, sent inline under the page's CSP
// nonce (no script file, no bundle): navigator.credentials.create() or .get() with the
// options the server put in the form's data-options (base64url fields made into bytes), the
// answer encoded back to JSON in the form's `response` field, then the form is posted. If the
// browser refuses or fails (no authenticator, cancelled), the form is posted without an
// answer and the server answers as for any failure; so does a Cancel button of the form
// (name="cancel"), which also stops a ceremony still waiting for an authenticator. Written here rather than bundling
// @simplewebauthn/browser: the two calls and the base64url mapping are all this needs.

export const PASSKEY_SCRIPT = `(() => {
  const form = document.getElementById('passkey-form');
  if (!form) return;
  const bytes = (s) => {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  };
  const text = (buf) => {
    let s = '';
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  };
  const ids = (list) => (list || []).map((c) => ({ ...c, id: bytes(c.id) }));
  const options = JSON.parse(form.dataset.options);
  const create = form.dataset.ceremony === 'create';
  const status = document.getElementById('passkey-status');
  let done = false;
  let abort;
  form.addEventListener('submit', async (event) => {
    if (done) return;
    if (event.submitter && event.submitter.name === 'cancel') {
      // Given up (no authenticator at hand): the browser posts the form without an answer.
      done = true;
      if (abort) abort.abort();
      form.elements.namedItem('response').value = '';
      return;
    }
    event.preventDefault();
    if (abort) return;
    abort = new AbortController();
    if (status) status.textContent = 'Waiting for your passkey…';
    let answer = '';
    try {
      if (create) {
        const c = await navigator.credentials.create({ signal: abort.signal, publicKey: {
          ...options,
          challenge: bytes(options.challenge),
          user: { ...options.user, id: bytes(options.user.id) },
          excludeCredentials: ids(options.excludeCredentials),
        } });
        answer = JSON.stringify({ id: c.id, rawId: text(c.rawId), type: c.type,
          authenticatorAttachment: c.authenticatorAttachment, response: {
            clientDataJSON: text(c.response.clientDataJSON),
            attestationObject: text(c.response.attestationObject),
            transports: c.response.getTransports ? c.response.getTransports() : [] } });
      } else {
        const c = await navigator.credentials.get({ signal: abort.signal, publicKey: {
          ...options,
          challenge: bytes(options.challenge),
          allowCredentials: ids(options.allowCredentials),
        } });
        answer = JSON.stringify({ id: c.id, rawId: text(c.rawId), type: c.type, response: {
          clientDataJSON: text(c.response.clientDataJSON),
          authenticatorData: text(c.response.authenticatorData),
          signature: text(c.response.signature),
          userHandle: c.response.userHandle ? text(c.response.userHandle) : null } });
      }
    } catch {
      answer = '';
    }
    if (done) return;
    form.elements.namedItem('response').value = answer;
    done = true;
    form.submit();
  });
})();`;
