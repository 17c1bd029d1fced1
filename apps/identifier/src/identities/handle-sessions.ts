import { randomBytes } from 'node:crypto';
import { Redis } from '@iip/platform-redis';

/** How long a Handle REST session lives after it was opened or last authenticated. */
export const SESSION_TTL_MS = 30 * 60_000;

/** A Handle REST API session (`POST /api/sessions`): the server's nonce and, once a signature checked out, the identity. */
export interface HandleSession {
  id: string;
  nonce: Buffer;
  identity?: { index: number; handle: string; key: string };
}

interface StoredSession {
  nonce: string;
  identity?: HandleSession['identity'];
}

/**
 * The Handle REST API's sessions: a client opens one, gets a nonce, signs the nonce with a
 * nonce of its own under its identity's private key (`Authorization: Handle … signature=`), and
 * then names the session on later requests (`Authorization: Handle version="0", sessionId=…`).
 * In Redis, so every instance serves every session; what the identity may do is checked again on
 * each request (its key still there, its tenant not suspended).
 */
export class HandleSessions {
  constructor(private readonly redis: Redis) {}

  async open(): Promise<HandleSession> {
    const session: HandleSession = { id: randomBytes(18).toString('base64url'), nonce: randomBytes(16) };
    await this.save(session);
    return session;
  }

  async find(id: string): Promise<HandleSession | undefined> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredSession;
    return { id, nonce: Buffer.from(stored.nonce, 'base64'), identity: stored.identity };
  }

  async authenticated(session: HandleSession, identity: NonNullable<HandleSession['identity']>): Promise<void> {
    await this.save({ ...session, identity });
  }

  async close(id: string): Promise<boolean> {
    return (await this.redis.del([this.key(id)])) > 0;
  }

  private save(session: HandleSession): Promise<void> {
    const stored: StoredSession = { nonce: session.nonce.toString('base64'), identity: session.identity };
    return this.redis.set(this.key(session.id), JSON.stringify(stored), SESSION_TTL_MS);
  }

  private key(id: string): string {
    return `handle-session:${id}`;
  }
}

/**
 * The parameters of `Authorization: Handle version="0", sessionId="…", …` (comma-separated
 * `name="value"` pairs, RFC 7235 auth-params); undefined when they do not parse.
 */
export function handleAuthParams(params: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const pair = /\s*([A-Za-z]+)\s*=\s*(?:"([^"\\]*)"|([^\s,"]+))\s*(?:,|$)/y;
  let at = 0;
  while (at < params.length) {
    pair.lastIndex = at;
    const m = pair.exec(params);
    if (!m) return undefined;
    out[m[1]] = m[2] ?? m[3];
    at = pair.lastIndex;
  }
  return out;
}
