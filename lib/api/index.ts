/** HTTP API: Hono app over the ServerControl interface (docs/architecture.md §1.1, docs/http-api.md). */
export * from './types.ts';
export * from './control.ts';
export * from './app.ts';
