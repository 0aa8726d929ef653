import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey } from '../src/client-address.ts';

describe('client keys', () => {
  it('IPv4 as is, IPv4-mapped as IPv4, other IPv6 by its /64', () => {
    assert.equal(clientKey('198.51.100.7'), '198.51.100.7');
    assert.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7');
    assert.equal(clientKey('::FFFF:c633:6407'), '198.51.100.7');
    assert.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1:2:3:4:5'), '2001:db8:0:1::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('64:ff9b::198.51.100.7'), '64:ff9b:0:0::/64');
    assert.equal(clientKey(undefined), 'unknown');
  });
});
