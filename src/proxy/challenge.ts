// ACME http-01 on the plain listener: berth's own tokens are answered before any route sees them.
import type http from 'node:http';
import type { ChallengeAnswers } from '../certs/types.js';
import { isEncrypted } from './request-facts.js';

/** http-01: the answer for a token berth is validating, before routes, redirects or apps see it. */
export function answerChallenge(req: http.IncomingMessage, res: http.ServerResponse, challenges: ChallengeAnswers): boolean {
  const url = req.url ?? '';
  if (req.method !== 'GET' || !url.startsWith(CHALLENGE_PREFIX) || isEncrypted(req)) return false;
  const answer = challenges.http01(url.slice(CHALLENGE_PREFIX.length));
  if (answer === undefined) return false;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(answer), 'cache-control': 'no-store' });
  res.end(answer);
  return true;
}

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

