import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorPage, escapeHtml, notFoundDetail, statusTitle } from '../../src/proxy/pages.js';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    const escaped = escapeHtml(`<a href="x" onclick='y'>&</a>`);
    assert.doesNotMatch(escaped, /[<>"']/);
    assert.doesNotMatch(escaped, /&(?!#\d+;)/);
    assert.equal(escaped, '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });

  it('leaves plain text alone', () => {
    assert.equal(escapeHtml('app.example.test'), 'app.example.test');
  });
});

describe('errorPage', () => {
  it('puts the status and title in the page', () => {
    const page = errorPage(503, 'nothing ready');
    assert.match(page, /<title>503 Service Unavailable<\/title>/);
    assert.match(page, /<h1>503 Service Unavailable<\/h1>/);
  });

  it('escapes a hostile host named in a 404 page', () => {
    const hostile = '<script>alert("x")</script>.test';
    const page = errorPage(404, notFoundDetail(hostile));
    assert.ok(!page.includes('<script>'));
    assert.ok(page.includes('&#60;script&#62;'));
  });

  it('names the host in the 404 detail', () => {
    assert.ok(notFoundDetail('a.test').includes('a.test'));
    assert.notEqual(notFoundDetail(''), notFoundDetail('a.test'));
  });
});

describe('statusTitle', () => {
  it('uses the standard reason phrase of every status and falls back for unknown ones', () => {
    assert.equal(statusTitle(408), 'Request Timeout');
    assert.equal(statusTitle(405), 'Method Not Allowed');
    assert.equal(statusTitle(404), 'Not Found');
    assert.equal(statusTitle(502), 'Bad Gateway');
    assert.equal(statusTitle(504), 'Gateway Timeout');
    assert.equal(statusTitle(431), 'Request Header Fields Too Large');
    assert.equal(statusTitle(599), 'Unknown');
  });
});
