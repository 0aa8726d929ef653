import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addEmail,
  CONNECTED_REFRESH_MS,
  isConnectedSite,
  readConnectedSites,
  readPreferences,
  recordConnectedSite,
  removeEmail,
  setConfirmNewSites,
  setDefaultEmail,
} from '../src/shared/storage.ts';
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

test('the confirmation before a first sign-in is on by default; only an explicit off turns it off', async () => {
  const area = memoryArea();
  assert.equal((await readPreferences(area)).confirmNewSites, true);
  await area.set({ confirmNewSites: 'no' });
  assert.equal((await readPreferences(area)).confirmNewSites, true, 'garbage reads as on');
  await setConfirmNewSites(area, false);
  assert.equal((await readPreferences(area)).confirmNewSites, false);
  await setConfirmNewSites(area, true);
  assert.equal((await readPreferences(area)).confirmNewSites, true);
});

test('a connected site is per address and per origin', async () => {
  const area = memoryArea();
  await recordConnectedSite(area, { email: 'alice@mail.test', site: 'https://site.test', time: 1 });
  assert.equal(await isConnectedSite(area, 'https://site.test', 'alice@mail.test'), true);
  assert.equal(await isConnectedSite(area, 'https://site.test', 'bob@mail.test'), false);
  assert.equal(await isConnectedSite(area, 'https://site.test:8443', 'alice@mail.test'), false);
});

test('recording a connected site again writes nothing until its time is an hour old', async () => {
  const area = memoryArea();
  let writes = 0;
  const counted = {
    ...area,
    set: (items: Record<string, unknown>) => {
      writes++;
      return area.set(items);
    },
  };
  const alice = { email: 'alice@mail.test', site: 'https://site.test', time: 1_000 };
  const other = { email: 'alice@mail.test', site: 'https://other.test', time: 2_000 };
  await recordConnectedSite(counted, alice);
  await recordConnectedSite(counted, other);
  assert.equal(writes, 2);
  await recordConnectedSite(counted, { ...alice, time: 1_000 + CONNECTED_REFRESH_MS - 1 });
  assert.equal(writes, 2, 'already recorded: no write');
  assert.deepEqual(
    (await readConnectedSites(area)).map((c) => [c.site, c.time]),
    [
      ['https://other.test', 2_000],
      ['https://site.test', 1_000],
    ],
  );
  const later = 1_000 + CONNECTED_REFRESH_MS;
  await recordConnectedSite(counted, { ...alice, time: later });
  assert.equal(writes, 3, 'an hour later its time is refreshed');
  assert.deepEqual(
    (await readConnectedSites(area)).map((c) => [c.site, c.time]),
    [
      ['https://site.test', later],
      ['https://other.test', 2_000],
    ],
  );
  await recordConnectedSite(counted, { ...alice, email: 'bob@mail.test', time: later });
  assert.equal(writes, 4, 'another address at the same site is a new record');
});
