export interface HandleJavaClientProcess {
  request(body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}
export function ensureHandleClient(repoRoot?: string): string;
export function startHandleClient(options?: { repoRoot?: string; timeoutMs?: number }): Promise<HandleJavaClientProcess>;
