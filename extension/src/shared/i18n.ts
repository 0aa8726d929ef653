// Fills an extension page's text from _locales: elements carry data-i18n="<message name>".
import browser from 'webextension-polyfill';

export function t(name: string, ...substitutions: string[]): string {
  return browser.i18n.getMessage(name, substitutions);
}

export function localizePage(root: ParentNode = document): void {
  document.documentElement.lang = browser.i18n.getUILanguage();
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n ?? '');
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-placeholder]')) {
    el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder ?? ''));
  }
}
