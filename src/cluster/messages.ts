// What the primary and its workers say to each other over the cluster IPC channel.
import type { RouteSpec } from '../routes/types.js';

export type ToWorker =
  /** Every source's routes; the worker builds the same table the primary has. */
  | { readonly type: 'berth:routes'; readonly sources: Record<string, readonly RouteSpec[]> }
  | { readonly type: 'berth:shutdown' };

export type ToPrimary =
  /** Sent once the worker listens for messages: anything sent before could be lost. */
  | { readonly type: 'berth:hello' }
  | { readonly type: 'berth:listening'; readonly port: number }
  /** The proxy port could not be had; the message says which setting to change. */
  | { readonly type: 'berth:listen-failed'; readonly code: string; readonly message: string };

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}
