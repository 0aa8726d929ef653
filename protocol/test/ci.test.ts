import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCi, skipUnlessCi } from '../testing/index.ts';

describe('skipUnlessCi', () => {
  it('runs a test whose prerequisites are there, with or without CI', () => {
    assert.equal(skipUnlessCi(false, {}), false);
    assert.equal(skipUnlessCi(undefined, { CI: 'true' }), false);
  });
  it('skips with the reason outside CI', () => {
    for (const env of [{}, { CI: '' }, { CI: '0' }, { CI: 'false' }]) {
      assert.equal(isCi(env), false, JSON.stringify(env));
      assert.equal(skipUnlessCi('not built', env), 'not built');
    }
  });
  it('fails with the reason under CI', () => {
    for (const env of [{ CI: '1' }, { CI: 'true' }, { CI: 'TRUE' }]) {
      assert.equal(isCi(env), true, JSON.stringify(env));
      assert.throws(() => skipUnlessCi('not built', env), /not built \(CI is set/);
    }
  });
});
