/** HTTP API: Hono app over the ServerControl interface (design.md §1.1, http-api.md). */
export * from './types.ts';
export * from './control.ts';
export * from './app.ts';
