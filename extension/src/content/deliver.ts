// Delivery (protocol-spec.md#delivery; step 7 of protocol-spec.md#extension-processing): a
// top-level form POST to the site's endpoint, built inside a closed shadow root so page scripts
// cannot read the assertion field.
import { DELIVERY_ASSERTION_FIELD, DELIVERY_RETURN_TO_FIELD } from '@bsso/protocol';

export function deliverAssertion(endpoint: string, assertion: string, returnTo: string): void {
  const host = document.createElement('div');
  host.hidden = true;
  const root = host.attachShadow({ mode: 'closed' });
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = endpoint;
  form.enctype = 'application/x-www-form-urlencoded';
  for (const [name, value] of [
    [DELIVERY_ASSERTION_FIELD, assertion],
    [DELIVERY_RETURN_TO_FIELD, returnTo],
  ] as const) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.append(input);
  }
  root.append(form);
  document.documentElement.append(host);
  form.submit();
}
