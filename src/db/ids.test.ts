import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUuid, serialId } from './ids';

describe('ids from URLs and forms', () => {
  it('isUuid takes only the 8-4-4-4-12 hexadecimal form', () => {
    assert.equal(isUuid('0b8f5a52-7c1e-4f3a-9d2b-6e4c1a2b3c4d'), true);
    assert.equal(isUuid('0B8F5A52-7C1E-4F3A-9D2B-6E4C1A2B3C4D'), true);
    for (const s of ['', '-'.repeat(36), '0b8f5a52-7c1e-4f3a-9d2b-6e4c1a2b3c4', '0b8f5a52-7c1e-4f3a-9d2b-6e4c1a2b3c4g', ' 0b8f5a52-7c1e-4f3a-9d2b-6e4c1a2b3c4d']) {
      assert.equal(isUuid(s), false, s);
    }
  });
  it('serialId takes plain positive whole numbers a bigserial column and JavaScript can both hold', () => {
    assert.equal(serialId('1'), 1);
    assert.equal(serialId('9007199254740991'), Number.MAX_SAFE_INTEGER);
    for (const s of ['', '0', '01', '-1', '+1', '1e3', '1.0', ' 1', '0x10', '9007199254740993', '99999999999999999999999']) {
      assert.equal(serialId(s), null, s);
    }
  });
});
