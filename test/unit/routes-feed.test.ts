import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applySpecsChanges, RoutesFeed, spliceBetween, type RoutesMessage } from '../../src/cluster/routes-feed.js';
import { RouteStore } from '../../src/routes/store.js';
import type { RouteSpec } from '../../src/routes/types.js';

function spec(host: string, port = 80, source = 'redis'): RouteSpec {
  return { host, path: '/', source, endpoint: { key: `${host}:${port}`, scheme: 'http', address: '10.0.0.1', port, ready: true, stripPrefix: false } };
}

/** As the cluster channel carries a message: JSON, so nothing is shared by reference. */
function deliver(store: RouteStore, message: RoutesMessage): void {
  const received = JSON.parse(JSON.stringify(message)) as RoutesMessage;
  store.setHealth(received.health);
  if (received.type === 'berth:routes') for (const [source, specs] of Object.entries(received.sources)) store.update(source, specs);
  else applySpecsChanges(store, received.changes);
}

describe('spliceBetween', () => {
  it('turns any list into any other', () => {
    const lists = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 80, max: 82 })), { maxLength: 8 });
    fc.assert(
      fc.property(lists, lists, (before, after) => {
        const from = before.map(([host, port]) => spec(host, port));
        const to = after.map(([host, port]) => spec(host, port));
        const splice = spliceBetween(from, to);
        const result = [...from];
        if (splice) result.splice(splice.start, splice.deleteCount, ...splice.insert);
        assert.deepEqual(result, to);
        assert.equal(splice === null, JSON.stringify(from) === JSON.stringify(to));
      }),
    );
  });

  it('sends only the changed spec of a long list', () => {
    const before = Array.from({ length: 1000 }, (_, i) => spec(`h${i}.test`));
    const after = before.map((one, i) => (i === 500 ? spec('h500.test', 81) : one));
    assert.deepEqual(spliceBetween(before, after), { start: 500, deleteCount: 1, insert: [spec('h500.test', 81)] });
  });
});

describe('RoutesFeed', () => {
  it('keeps a worker\'s store equal to the primary\'s through changes, sending full sets until the first', () => {
    const primary = new RouteStore(['file', 'redis', 'docker']);
    const worker = new RouteStore(['file', 'redis', 'docker']);
    const feed = new RoutesFeed<'w'>(primary);
    const sent: RoutesMessage[] = [];
    primary.onChange(() => {
      for (const [, message] of feed.changed()) {
        sent.push(message);
        deliver(worker, message);
      }
    });
    primary.update('docker', [spec('d.test', 80, 'docker')]);
    assert.equal(sent.length, 0, 'a worker that has not said hello is sent nothing');
    feed.follow('w');
    primary.update('redis', [spec('a.test'), spec('b.test'), spec('c.test')]);
    assert.equal(sent.at(-1)?.type, 'berth:routes');
    deliver(worker, feed.full('w'));
    primary.update('redis', [spec('a.test'), spec('b.test', 81), spec('c.test')]);
    primary.update('redis', [spec('a.test'), spec('c.test')]);
    primary.setHealth({ 'c.test:80 /health c.test': 'status 500' });
    primary.update('docker', []);
    const last = sent.at(-1)!;
    assert.equal(last.type, 'berth:routes-changed');
    assert.deepEqual(last.type === 'berth:routes-changed' && last.changes, { docker: { start: 0, deleteCount: 1, insert: [] } });
    assert.deepEqual(worker.specsBySource(), primary.specsBySource());
    assert.deepEqual(worker.healthFailures(), primary.healthFailures());
    assert.deepEqual(
      worker.current.pools.map((pool) => [pool.key, pool.endpoints.map((endpoint) => endpoint.key)]),
      primary.current.pools.map((pool) => [pool.key, pool.endpoints.map((endpoint) => endpoint.key)]),
    );
  });

  it('sends nothing more to a worker it forgot', () => {
    const primary = new RouteStore(['redis']);
    const feed = new RoutesFeed<'w'>(primary);
    feed.follow('w');
    feed.forget('w');
    feed.full('w');
    primary.update('redis', [spec('a.test')]);
    assert.deepEqual(feed.changed(), []);
  });

  it('sends a full set after a message to the worker was lost, so it never applies changes to the wrong base', () => {
    const primary = new RouteStore(['redis']);
    const worker = new RouteStore(['redis']);
    const feed = new RoutesFeed<'w'>(primary);
    feed.follow('w');
    primary.update('redis', [spec('a.test')]);
    deliver(worker, feed.full('w'));
    primary.update('redis', [spec('a.test'), spec('b.test')]);
    const [[, lostMessage]] = feed.changed() as [['w', RoutesMessage]];
    assert.equal(lostMessage.type, 'berth:routes-changed');
    feed.lost('w');
    primary.update('redis', [spec('a.test'), spec('b.test'), spec('c.test')]);
    const [[, next]] = feed.changed() as [['w', RoutesMessage]];
    assert.equal(next.type, 'berth:routes', 'a full set, not a change from a base the worker never had');
    deliver(worker, next);
    assert.deepEqual(worker.specsBySource(), primary.specsBySource());
  });
});
