import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clickNavigates,
  endpointForPage,
  isPopupDone,
  QUIET_FAILURES,
  resolveEmailChoice,
} from '../src/shared/rules.ts';

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

/** A stand-in element: a tag, attributes, an optional form owner and its ancestors. */
function fakeElement(
  tag: string,
  attrs: Record<string, string> = {},
  opts: { form?: boolean; parent?: Element } = {},
): Element {
  const el = {
    localName: tag,
    form: opts.form ? {} : null,
    getAttribute: (name: string) => attrs[name] ?? null,
    closest(selectors: string): Element | null {
      for (const selector of selectors.split(',').map((x) => x.trim())) {
        const [, name, attr] = /^([a-z]+)(?:\[([a-z]+)\])?$/.exec(selector) ?? [];
        if (name === tag && (attr === undefined || attr in attrs)) return el as unknown as Element;
      }
      return opts.parent ? opts.parent.closest(selectors) : null;
    },
  };
  return el as unknown as Element;
}

describe('clickNavigates: the only clicks whose default action the extension cancels', () => {
  test('links and submit controls of a form', () => {
    assert.equal(clickNavigates(fakeElement('a', { href: '/x' })), true);
    assert.equal(
      clickNavigates(fakeElement('span', {}, { parent: fakeElement('a', { href: '/' }) })),
      true,
    );
    assert.equal(
      clickNavigates(fakeElement('button', {}, { form: true })),
      true,
      'no type: submit',
    );
    assert.equal(clickNavigates(fakeElement('button', { type: 'SUBMIT' }, { form: true })), true);
    assert.equal(clickNavigates(fakeElement('input', { type: 'image' }, { form: true })), true);
  });
  test('plain buttons, buttons outside a form, any other element: untouched', () => {
    assert.equal(clickNavigates(fakeElement('button', { type: 'button' }, { form: true })), false);
    assert.equal(clickNavigates(fakeElement('button', { type: 'reset' }, { form: true })), false);
    assert.equal(clickNavigates(fakeElement('button')), false, 'no form');
    assert.equal(clickNavigates(fakeElement('input', { type: 'text' }, { form: true })), false);
    assert.equal(clickNavigates(fakeElement('a')), false, 'a link without href');
    assert.equal(clickNavigates(fakeElement('body')), false);
    assert.equal(clickNavigates(fakeElement('div')), false);
  });
});

test('the page hears nothing of a sign-in that ended before the user agreed', () => {
  for (const code of ['user_cancelled', 'no_email', 'busy', 'sender_rejected'] as const) {
    assert.equal(QUIET_FAILURES.has(code), true, code);
  }
  for (const code of ['login_cancelled', 'assertion_mismatch', 'origin_mismatch'] as const) {
    assert.equal(QUIET_FAILURES.has(code), false, code);
  }
});
