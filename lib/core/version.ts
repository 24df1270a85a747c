/**
 * Version strings lal reports (docs/http-api.md §3.1, docs/config.md §2).
 * `LAL_VERSION` is this implementation's own version (no leading `v`); the others are the
 * upstream LAL schema/API versions whose formats we keep.
 */

/** This implementation's version; the HTTP `Server` header is `lal` + this. */
export const LAL_VERSION = '0.1.0';
/** HTTP API version (`api_version` of `/api/stat/lal_info`). */
export const API_VERSION = 'v0.4.9';
/** HTTP notify version. */
export const NOTIFY_VERSION = 'v0.2.5';
/** Web UI version (`WebUiVersion` of `/api/stat/lal_info`). */
export const WEB_UI_VERSION = 'v0.0.3';
/** Config schema version (`conf_version`); a mismatch only produces a warning. */
export const CONF_VERSION = 'v0.4.1';
