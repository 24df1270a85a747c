/**
 * Bun.serve adapter for fetch-style apps (the Hono HTTP API). Media HTTP (FLV/TS/HLS/WS) runs on
 * our own HTTP/1.1 handling over lib/net/tcp.ts instead, so it can write LAL's exact response
 * head and share one encoded buffer per packet across players.
 */
export interface HttpListener {
  readonly port: number;
  stop(): void;
}

export function serveFetch(opts: {
  host: string;
  port: number;
  fetch: (req: Request, remoteAddr: string) => Response | Promise<Response>;
}): HttpListener {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: opts.host,
      port: opts.port,
      idleTimeout: 30,
      fetch(req, srv) {
        const ip = srv.requestIP(req);
        return opts.fetch(req, ip ? `${ip.address}:${ip.port}` : '');
      },
      error(err) {
        return new Response(JSON.stringify({ error_code: 500, desp: `internal error: ${err.message}` }), {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
        });
      },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${msg}`);
  }
  return { port: server.port ?? opts.port, stop: () => server.stop(true) };
}
