// A short message in the page (role=alert), in a closed shadow root: page scripts cannot read
// it or restyle it, assistive technology still announces it. It never names the address
// (protocol-spec.md#page-markup, threat 42).
import type { BrowserApi } from './api.ts';

const HOST_ATTR = 'data-bsso-notice';
const AUTO_CLOSE_MS = 20_000;

export function showNotice(browser: BrowserApi, text: string): void {
  document.querySelector(`[${HOST_ATTR}]`)?.remove();
  const host = document.createElement('div');
  host.setAttribute(HOST_ATTR, '');
  const root = host.attachShadow({ mode: 'closed' });
  const style = document.createElement('style');
  style.textContent = `
    .box { position: fixed; z-index: 2147483647; right: 16px; bottom: 16px; max-width: 360px;
      padding: 12px 14px; border-radius: 8px; background: #1f2937; color: #fff;
      font: 14px/1.4 system-ui, sans-serif; box-shadow: 0 4px 16px rgba(0,0,0,.3); }
    button { margin-top: 8px; font: inherit; }`;
  const box = document.createElement('div');
  box.className = 'box';
  box.setAttribute('role', 'alert');
  const title = document.createElement('strong');
  title.textContent = browser.i18n.getMessage('extName');
  const body = document.createElement('p');
  body.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = browser.i18n.getMessage('notice_close');
  close.addEventListener('click', () => host.remove());
  box.append(title, body, close);
  root.append(style, box);
  document.documentElement.append(host);
  setTimeout(() => host.remove(), AUTO_CLOSE_MS);
}

/** The readable text for a failure code; the messages never name the address. */
export function failureText(browser: BrowserApi, code: string): string {
  const text = browser.i18n.getMessage(`error_${code}`);
  return text !== '' ? text : browser.i18n.getMessage('error_generic', code);
}
