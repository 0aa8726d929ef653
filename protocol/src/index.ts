// @bsso/protocol: the one home of every BSSO protocol rule (see protocol-spec.md).
export * from './assertion.ts';
export * from './assertion-request.ts';
export * from './association.ts';
export * from './challenge.ts';
export * from './constants.ts';
export * from './discovery.ts';
export * from './email.ts';
export * from './errors.ts';
export * from './http.ts';
export * from './random.ts';
export * from './urls.ts';
export * from './verification.ts';
export * from './web-signin.ts';
