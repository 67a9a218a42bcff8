import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { followEvents } from '../../src/docker/client.js';
import type { DockerEvent } from '../../src/docker/events.js';

function follow() {
  const raw = new PassThrough();
  const events: DockerEvent[] = [];
  const bad: unknown[] = [];
  const stream = followEvents(raw, { onEvent: (event) => events.push(event), onBadLine: (line) => bad.push(line) });
  return { raw, events, bad, stream };
}

describe('the client\'s typed event stream', () => {
  it('hands over one typed event per line, however the bytes are cut', async () => {
    const { raw, events, bad } = follow();
    const text = `${JSON.stringify({ Type: 'container', Action: 'pause', Actor: { ID: 'c1', Attributes: { name: 'web', 'com.example.stack': 'prod' } } })}\n${JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'n1', Attributes: { container: 'c1', name: 'front' } } })}\n`;
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) raw.write(bytes.subarray(i, i + 7));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events.map((event) => [event.type, event.action, event.containerId, event.attributes['name']]), [
      ['container', 'pause', 'c1', 'web'],
      ['network', 'connect', 'c1', 'front'],
    ]);
    assert.equal(events[0]!.attributes['com.example.stack'], 'prod');
    assert.deepEqual(bad, []);
  });

  it('reports a line that is no event, and says why the stream ended', async () => {
    const { raw, events, bad, stream } = follow();
    raw.end('not json\n');
    assert.equal(await stream.ended, 'ended');
    assert.deepEqual(events, []);
    assert.deepEqual(bad, [{ line: 'not json' }]);
  });

  it('ends as closed when berth closes it', async () => {
    const { stream } = follow();
    stream.close();
    assert.equal(await stream.ended, 'closed');
  });
});
