// The throwaway test PKI lives in @bsso/protocol/testing; re-exported for e2e and bench.
export { makeTestPki, type TestPki } from '@bsso/protocol/testing';
