import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLineSplitter } from '../../src/docker/line-splitter.js';

function collect(maxLineBytes?: number) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const splitter = createLineSplitter((line) => lines.push(line), (bytes) => oversize.push(bytes), maxLineBytes);
  return { lines, oversize, push: (chunk: Buffer | string) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk) };
}

describe('createLineSplitter', () => {
  it('delivers several events that arrive in one chunk, in order', () => {
    const s = collect();
    s.push('{"a":1}\n{"b":2}\n{"c":3}\n');
    assert.deepEqual(s.lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('joins one event split across chunks', () => {
    const s = collect();
    s.push('{"Type":"cont');
    assert.deepEqual(s.lines, []);
    s.push('ainer","Action":');
    s.push('"start"}\n{"next"');
    assert.deepEqual(s.lines, ['{"Type":"container","Action":"start"}']);
    s.push(':true}\n');
    assert.deepEqual(s.lines, ['{"Type":"container","Action":"start"}', '{"next":true}']);
  });

  it('decodes a multi-byte UTF-8 character split between chunks', () => {
    const s = collect();
    const bytes = Buffer.from('{"name":"café-🚢"}\n', 'utf8');
    const e = bytes.indexOf(0xc3);
    const ship = bytes.indexOf(0xf0);
    s.push(bytes.subarray(0, e + 1));
    s.push(bytes.subarray(e + 1, ship + 2));
    s.push(bytes.subarray(ship + 2));
    assert.deepEqual(s.lines, ['{"name":"café-🚢"}']);
  });

  it('feeds one byte at a time correctly', () => {
    const s = collect();
    for (const byte of Buffer.from('{"x":"ü"}\n{"y":2}\n')) s.push(Buffer.from([byte]));
    assert.deepEqual(s.lines, ['{"x":"ü"}', '{"y":2}']);
  });

  it('drops and reports an oversized line within one chunk while the next line still arrives', () => {
    const s = collect(10);
    s.push('x'.repeat(20) + '\n{"ok":1}\n');
    assert.deepEqual(s.lines, ['{"ok":1}']);
    assert.equal(s.oversize.length, 1);
    assert.ok(s.oversize[0]! > 10);
  });

  it('drops and reports an oversized line spread over chunks while the next line still arrives', () => {
    const s = collect(10);
    s.push('x'.repeat(8));
    s.push('y'.repeat(8));
    s.push('z'.repeat(8));
    s.push('zz\n{"ok":1}\n');
    assert.deepEqual(s.lines, ['{"ok":1}']);
    assert.deepEqual(s.oversize, [26]);
  });

  it('keeps a line of exactly the maximum length', () => {
    const s = collect(10);
    s.push('0123456789\n');
    assert.deepEqual(s.lines, ['0123456789']);
    assert.deepEqual(s.oversize, []);
  });

  it('ignores blank lines and lines of whitespace, and trims carriage returns', () => {
    const s = collect();
    s.push('\n\n  \r\n{"a":1}\r\n\n');
    assert.deepEqual(s.lines, ['{"a":1}']);
    assert.deepEqual(s.oversize, []);
  });

  it('holds a line without its newline until the newline arrives', () => {
    const s = collect();
    s.push('{"partial":true}');
    assert.deepEqual(s.lines, []);
    s.push('\n');
    assert.deepEqual(s.lines, ['{"partial":true}']);
  });

  it('does not reuse a caller buffer that is changed after push', () => {
    const s = collect();
    const chunk = Buffer.from('{"a":1');
    s.push(chunk);
    chunk.fill(0x20);
    s.push('}\n');
    assert.deepEqual(s.lines, ['{"a":1}']);
  });
});
