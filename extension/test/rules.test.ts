import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { endpointForPage, isPopupDone, resolveEmailChoice } from '../src/shared/rules.ts';

describe('endpointForPage', () => {
  test('accepts a same-origin https endpoint', () => {
    assert.deepEqual(endpointForPage('https://site.test/bsso', 'https://site.test/login?x=1'), {
      ok: true,
      endpoint: 'https://site.test/bsso',
    });
  });
  test('refuses an endpoint on another origin', () => {
    const r = endpointForPage('https://evil.test/bsso', 'https://site.test/');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'origin_mismatch');
  });
  test('refuses another port or scheme of the same host', () => {
    for (const href of ['https://site.test:8443/bsso', 'http://site.test/bsso']) {
      assert.equal(endpointForPage(href, 'https://site.test/').ok, false, href);
    }
  });
  test('refuses http pages that are not localhost', () => {
    const r = endpointForPage('http://site.test/bsso', 'http://site.test/');
    assert.equal(!r.ok && r.code, 'insecure_url');
  });
  test('allows http only on localhost names', () => {
    assert.equal(endpointForPage('http://localhost:3000/bsso', 'http://localhost:3000/').ok, true);
    assert.equal(endpointForPage('http://app.localhost/bsso', 'http://app.localhost/').ok, true);
    assert.equal(
      endpointForPage('http://localhost.evil.test/b', 'http://localhost.evil.test/').ok,
      false,
    );
  });
  test('refuses credentials, fragments and garbage', () => {
    for (const href of ['https://u:p@site.test/bsso', 'https://site.test/bsso#x', 'bsso', '']) {
      assert.equal(endpointForPage(href, 'https://site.test/').ok, false, href);
    }
    assert.equal(endpointForPage('https://site.test/bsso', 'not a url').ok, false);
  });
});

describe('resolveEmailChoice', () => {
  const emails = ['a@mail.test', 'b@mail.test'];
  test('per-site choice wins over the default', () => {
    const prefs = {
      emails,
      defaultEmail: 'a@mail.test',
      siteChoices: { 'https://s.test': 'b@mail.test' },
    };
    assert.deepEqual(resolveEmailChoice(prefs, 'https://s.test'), {
      kind: 'email',
      email: 'b@mail.test',
      source: 'site',
    });
  });
  test('the default applies on other sites', () => {
    const prefs = {
      emails,
      defaultEmail: 'a@mail.test',
      siteChoices: { 'https://s.test': 'b@mail.test' },
    };
    assert.deepEqual(resolveEmailChoice(prefs, 'https://other.test'), {
      kind: 'email',
      email: 'a@mail.test',
      source: 'default',
    });
  });
  test('no default and no site choice: the chooser', () => {
    assert.deepEqual(
      resolveEmailChoice({ emails, defaultEmail: null, siteChoices: {} }, 'https://s.test'),
      {
        kind: 'chooser',
      },
    );
  });
  test('a remembered or default address no longer kept does not count', () => {
    const prefs = {
      emails: ['a@mail.test'],
      defaultEmail: 'x@mail.test',
      siteChoices: { 'https://s.test': 'y@mail.test' },
    };
    assert.deepEqual(resolveEmailChoice(prefs, 'https://s.test'), { kind: 'chooser' });
  });
  test('no address at all: none', () => {
    assert.deepEqual(
      resolveEmailChoice({ emails: [], defaultEmail: null, siteChoices: {} }, 'https://s.test'),
      {
        kind: 'none',
      },
    );
  });
  test('inherited object members are not site choices', () => {
    const prefs = { emails, defaultEmail: null, siteChoices: {} };
    assert.deepEqual(resolveEmailChoice(prefs, 'constructor'), { kind: 'chooser' });
  });
});

describe('isPopupDone', () => {
  const issuer = 'https://mail.test';
  test('the provider origin with bsso_popup=done', () => {
    assert.equal(isPopupDone('https://mail.test/account?bsso_popup=done', issuer), true);
  });
  test('anything else is not done', () => {
    for (const url of [
      'https://mail.test/signin?login_hint=a',
      'https://evil.test/?bsso_popup=done',
      'https://mail.test:444/?bsso_popup=done',
      'http://mail.test/?bsso_popup=done',
      'https://mail.test/#bsso_popup=done',
      'https://mail.test/?bsso_popup=nope',
      'garbage',
      undefined,
    ]) {
      assert.equal(isPopupDone(url, issuer), false, String(url));
    }
  });
});
