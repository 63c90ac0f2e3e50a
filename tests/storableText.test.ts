import assert from 'node:assert/strict';
import { isStorableText, toStorableText } from '../src/domain/storableText.js';

describe('toStorableText', () => {
  it('replaces what Postgres cannot store (NUL, a lone surrogate, half an emoji) and leaves other text alone', () => {
    assert.equal(toStorableText('ok\u0000id\ud800'), 'ok\uFFFDid\uFFFD');
    assert.equal(toStorableText('x😀'.slice(0, 2)), 'x\uFFFD');
    assert.equal(toStorableText('ordre passé ✓ 😀'), 'ordre passé ✓ 😀');
    assert.equal(isStorableText(toStorableText('\u0000\udc00')), true);
  });
});
