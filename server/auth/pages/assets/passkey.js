/* global window, document, navigator, fetch, location, atob, btoa */
// The passkey button of the sign-in pages (served as /auth/assets/passkey.js; the pages allow no inline
// script): asks the server for WebAuthn options, lets the browser create or use a passkey, and posts the
// answer back. The button stays hidden where the browser cannot use passkeys, and the page works without it.
'use strict';

(function () {
  const button = document.getElementById('passkey');
  if (!button || !window.PublicKeyCredential || !navigator.credentials) return;
  const status = document.getElementById('passkey-status');
  const unsupported = document.getElementById('passkey-unsupported');
  const endpoint = button.dataset.mode === 'register' ? '/auth/passkeys' : '/auth/login/passkey';
  const MESSAGES = {
    NotAllowedError: 'No passkey was used. Try again when you are ready.',
    InvalidStateError: 'This device already has a passkey for your account.',
    AbortError: 'The passkey request was cancelled. Try again.',
  };

  button.hidden = false;
  if (unsupported) unsupported.hidden = true;
  button.addEventListener('click', run);

  async function run() {
    button.disabled = true;
    show('');
    try {
      const options = await post(`${endpoint}/options`, { request: button.dataset.request || '' });
      if (!options) return;
      const credential =
        button.dataset.mode === 'register'
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
      await post(endpoint, { request: button.dataset.request || '', credential: credentialJson(credential) });
    } catch (error) {
      show(MESSAGES[error && error.name] || (error && error.message) || 'The passkey did not work. Try again.');
    } finally {
      button.disabled = false;
    }
  }

  /** Posts JSON with the page's CSRF token; follows a `redirect` answer; throws the server's message. */
  async function post(url, body) {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': button.dataset.csrf || '' },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (data.redirect) {
      location.assign(data.redirect);
      return undefined;
    }
    if (!res.ok) throw new Error(data.error || 'Something went wrong. Reload the page and try again.');
    return data;
  }

  function show(message) {
    if (!status) return;
    status.textContent = message;
    status.hidden = !message;
  }

  function creationOptions(options) {
    return {
      ...options,
      challenge: bytes(options.challenge),
      user: { ...options.user, id: bytes(options.user.id) },
      excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
    };
  }

  function requestOptions(options) {
    return {
      ...options,
      challenge: bytes(options.challenge),
      allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })),
    };
  }

  function credentialJson(credential) {
    const response = credential.response;
    const common = {
      id: credential.id,
      rawId: base64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
    if (response.attestationObject) {
      return {
        ...common,
        response: {
          clientDataJSON: base64url(response.clientDataJSON),
          attestationObject: base64url(response.attestationObject),
          transports: response.getTransports ? response.getTransports() : [],
        },
      };
    }
    return {
      ...common,
      response: {
        clientDataJSON: base64url(response.clientDataJSON),
        authenticatorData: base64url(response.authenticatorData),
        signature: base64url(response.signature),
        userHandle: response.userHandle ? base64url(response.userHandle) : undefined,
      },
    };
  }

  function bytes(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(b64 + '==='.slice((b64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function base64url(buffer) {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
})();
