/** Calls to the service's API, typed with the server's own wire types. */
import type { AlarmView, ErrorBody, HistoryBucket, ModelView, RecentImageView, StreamView } from '../../src/monitor/api-types';

const KEY_STORAGE = 'vigil.apiKey';

export function apiKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(k: string): void {
  if (k) sessionStorage.setItem(KEY_STORAGE, k);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const key = apiKey();
  if (key) headers.set('x-api-key', key);
  const res = await fetch(path, { ...init, headers });
  const text = await res.text();
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = text.slice(0, 200) || res.statusText;
    try {
      const body = JSON.parse(text) as ErrorBody;
      code = body.error.code;
      message = body.error.message;
    } catch {
      // not a JSON error body
    }
    throw new ApiError(res.status, code, message);
  }
  return JSON.parse(text) as T;
}

export const api = {
  models: () => request<{ models: ModelView[] }>('/api/v1/models').then((r) => r.models),
  streams: () => request<{ streams: StreamView[] }>('/api/v1/streams').then((r) => r.streams),
  history: (model: string, stream: string) =>
    request<{ buckets: HistoryBucket[]; bucketMs: number }>(`/api/v1/streams/${encodeURIComponent(model)}/${encodeURIComponent(stream)}/history?limit=2000`),
  alarms: (limit = 100) => request<{ alarms: AlarmView[] }>(`/api/v1/alarms?limit=${limit}`).then((r) => r.alarms),
  recentImages: () => request<{ images: RecentImageView[] }>('/api/v1/images/recent').then((r) => r.images),
  ack: (id: number, by: string) =>
    request<{ alarm: AlarmView; created: boolean }>(`/api/v1/alarms/${id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by }),
    }),
};
