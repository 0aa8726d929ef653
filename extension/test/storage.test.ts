import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addEmail, readPreferences, removeEmail, setDefaultEmail } from '../src/shared/storage.ts';
import { memoryArea } from './memory-area.ts';

test('"ask at each new site" (no default) survives adding addresses; a sole survivor is default', async () => {
  const area = memoryArea();
  await addEmail(area, 'alice@mail.test');
  await addEmail(area, 'bob@mail.test');
  assert.equal((await readPreferences(area)).defaultEmail, 'alice@mail.test');
  await setDefaultEmail(area, null);
  await addEmail(area, 'carol@mail.test');
  assert.equal((await readPreferences(area)).defaultEmail, null);
  await setDefaultEmail(area, 'eve@mail.test');
  assert.equal((await readPreferences(area)).defaultEmail, null, 'unknown address ignored');
  await removeEmail(area, 'carol@mail.test');
  await removeEmail(area, 'bob@mail.test');
  assert.equal((await readPreferences(area)).defaultEmail, 'alice@mail.test');
});
