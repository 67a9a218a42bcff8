import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBooleanWord } from '../../src/util/boolean.js';

describe('parseBooleanWord', () => {
  it('reads true/yes/on/1 and false/no/off/0 in any case, with spaces around', () => {
    for (const word of ['true', 'YES', 'On', '1', ' true ']) assert.equal(parseBooleanWord(word), true, word);
    for (const word of ['false', 'No', 'OFF', '0', '\tfalse']) assert.equal(parseBooleanWord(word), false, word);
  });

  it('reads nothing else', () => {
    for (const word of ['', 'y', 'n', 't', 'f', 'enable', '2', '01', 'true false', 'ja']) assert.equal(parseBooleanWord(word), undefined, word);
  });
});
